# The embedded demo: a small InternImage (16 channels, depths 1-1-2-1, compiled DCNv3 op)
# trained from scratch on the generated shapes set (6 classes, 100 training and 20 validation
# 64x64 images per class; make it with  python tools/generate_demo_data.py --task classification)
# for a few minutes on a CPU. Light augmentation (crops keep most of the shape, flips), no Mixup,
# no EMA: the set is small and the run short.
_base_ = ['../../_base_/classification/default_runtime.py',
          '../../_base_/classification/imagenet_1k.py',
          '../../_base_/classification/schedule_in1k_300e.py']

data_root = 'data/demo/shapes_cls'
image_size = 64
max_epochs = 50
warmup_epochs = 2

model = dict(
    type='ImageClassificationModel',
    classifier=dict(type='InternImageClassifier', arch='t', channels=16, depths=[1, 1, 2, 1],
                    groups=[1, 2, 4, 8], num_classes=6),
    mixup=None, label_smoothing=0.1)

train_transform = dict(input_size=image_size, scale=(0.7, 1.0), hflip=0.5, vflip=0.5,
                       auto_augment=None, color_jitter=None, re_prob=0.0,
                       interpolation='bilinear')
test_transform = dict(input_size=image_size, crop_pct=1.0, interpolation='bilinear')
train_dataloader = dict(batch_size=32, num_workers=2, persistent_workers=False,
                        dataset=dict(data_root=data_root, transform=train_transform,
                                     decoder='pil'))
val_dataloader = dict(batch_size=32, num_workers=2, persistent_workers=False,
                      dataset=dict(data_root=data_root, transform=test_transform))
test_dataloader = val_dataloader

# The project's parameter groups (no layer decay; no weight decay on 1-D weights and biases), not
# the published classification constructor: the same multipliers, and the groups in the order
# the demo's numbers were measured with (gradient clipping sums the norms in that order).
optim_wrapper = dict(optimizer=dict(lr=3e-3), constructor='InternImageLayerDecayConstructor',
                     paramwise_cfg=dict(_delete_=True, layer_decay_rate=1.0))
auto_scale_lr = dict(enable=False)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
custom_hooks = []
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=10))
