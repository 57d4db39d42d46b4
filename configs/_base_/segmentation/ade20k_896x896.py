# ADE20K at the published 896x896 crops (InternImage-H): the 512 settings with every size
# scaled by 896/512 (train resize (3584, 896), test (3584, 896), multi-scale test around it).
_base_ = './ade20k_512x512.py'

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

crop_size = (896, 896)
test_scale = (3584, 896)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=test_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
tta_pipeline = multi_scale_flip_test(test_scale, size_divisor=32)
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))  # x 16 GPUs
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
