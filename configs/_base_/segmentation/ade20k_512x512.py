# ADE20K (150 classes, reduce_zero_label) at the published 512x512 crops: mmseg's data settings,
# 2 images per GPU (x 8 GPUs), and a multi-scale + flip test (``tta_pipeline``, run with
# ``tools/test.py --tta``): the published ``test.py --aug-test`` (segmentation.test_time).
# Test images are resized to a multiple of 32 after the resize, as published (ResizeToMultiple).
_base_ = 'mmseg::_base_/datasets/ade20k.py'

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

test_scale = (2048, 512)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
tta_pipeline = multi_scale_flip_test(test_scale, size_divisor=32)
train_dataloader = dict(batch_size=2)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
