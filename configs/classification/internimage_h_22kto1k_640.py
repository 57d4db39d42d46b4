# InternImage-H, 22k -> 1k fine-tune at 640 (published top-1 89.6): attention-pooling (CLIP
# projector) head, gradient checkpointing. See the L config for the initial checkpoint.
# drop_path_rate 0.2 is our choice.
_base_ = ['../_base_/classification/default_runtime.py',
          '../_base_/classification/imagenet_1k.py',
          '../_base_/classification/schedule_22kto1k_20e.py']

model = dict(
    type='ImageClassificationModel',
    classifier=dict(type='InternImageClassifier', arch='h', with_cp=True, drop_path_rate=0.2,
                    num_classes=1000))

train_dataloader = dict(batch_size=8, dataset=dict(transform=dict(input_size=640)))
val_dataloader = dict(batch_size=8, dataset=dict(transform=dict(input_size=640, crop_pct=1.0)))
test_dataloader = val_dataloader
