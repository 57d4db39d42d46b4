# Mask2Former-H (256-d head, 100 queries), NYU Depth V2 40-class segmentation at 480x480, 40k
# iterations, 16 GPUs x 1 image (published mIoU single-scale / multi-scale: 67.1 / 68.1,
# multi-scale with --tta; published file mask2former_internimage_h_480_40k_nyu.pth). AdamW lr
# 2e-5, layer decay 0.95, no gradient clipping; training resize (2048, 512) x 0.5..2.0 as
# published (the data base's (640, 480) is the test size). From the base's pretrained H backbone.
_base_ = ['../../_base_/segmentation/mask2former_internimage_h.py',
          '../../_base_/segmentation/nyu_depth_v2_480x480.py',
          '../../_base_/segmentation/schedule_40k.py']

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

num_classes = 40
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=num_classes,
                     loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=_base_.crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.95))
tta_pipeline = multi_scale_flip_test(_base_.test_scale, size_divisor=32)
