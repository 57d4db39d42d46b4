# The multi-scale + flip test of Mask2Former-H on ADE20K (published 62.9 mIoU; config
# mask2former_internimage_h_896_80k_cocostuff2ade20k_ms.py, checkpoint
# mask2former_internimage_h_896_80k_cocostuff2ade20k.pth): the single-scale config's model
# inside its TTA model, tested at 768/896 .. 1024/896 of (3584, 896), resized to a multiple of 32,
# with flips (the published config's MultiScaleFlipAug). For testing only
# (tools/test.py CONFIG CHECKPOINT); train with the single-scale config.
_base_ = './mask2former_internimage_h_896_80k_cocostuff2ade20k.py'

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=multi_scale_flip_test(
    _base_.test_scale, ratios=(768 / 896, 832 / 896, 1.0, 960 / 896, 1024 / 896),
    size_divisor=32)))
