# Cityscapes (19 classes) with mmseg's data settings (resize (2048, 1024) x 0.5..2.0, 512x1024
# crops, test at (2048, 1024), no padding) and the published multi-scale + flip test
# (``tta_pipeline``, tools/test.py --tta: the published --aug-test, ratios of the test size).
# The published Mask2Former configs also resized test images to a multiple of 32: they take
# ``test_pipeline_to_multiple`` and ``tta_pipeline_to_multiple`` (names, not config keys).
_base_ = 'mmseg::_base_/datasets/cityscapes.py'

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

test_scale = (2048, 1024)
tta_pipeline = multi_scale_flip_test(test_scale)
test_pipeline_to_multiple = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')]
tta_pipeline_to_multiple = multi_scale_flip_test(test_scale, size_divisor=32)
