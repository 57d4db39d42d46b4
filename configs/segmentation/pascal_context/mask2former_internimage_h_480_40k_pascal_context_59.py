# Mask2Former-H (256-d head, 100 queries), Pascal Context 59 classes at 480x480, 40k
# iterations, 16 GPUs x 1 image (published mIoU single-scale / multi-scale: 69.7 / 70.3,
# multi-scale with --tta; published file mask2former_internimage_h_480_40k_pascal_context_59.pth).
# AdamW lr 2e-5, layer decay 0.95, no gradient clipping; mmseg's PascalContextDataset59
# (data/VOCdevkit/VOC2010, train (520, 520) x 0.5..2.0), tested at short side 520 as published
# ((4096, 520)). From the base's pretrained H backbone.
_base_ = ['../../_base_/segmentation/mask2former_internimage_h.py',
          'mmseg::_base_/datasets/pascal_context_59.py',
          '../../_base_/segmentation/schedule_40k.py']

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

num_classes = 59
test_scale = (4096, 520)
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=num_classes,
                     loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=1)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.95))
tta_pipeline = multi_scale_flip_test(test_scale, size_divisor=32)
