# The multi-scale + flip test of Mask2Former-H on ADE20K (published 62.9 mIoU; config
# mask2former_internimage_h_896_80k_cocostuff2ade20k_ms.py, checkpoint
# mask2former_internimage_h_896_80k_cocostuff2ade20k.pth): the single-scale config's model
# inside its TTA model, tested at 768/896 .. 1024/896 of (3584, 896) with flips. For testing only
# (tools/test.py CONFIG CHECKPOINT); train with the single-scale config.
_base_ = './mask2former_internimage_h_896_80k_cocostuff2ade20k.py'

model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=_base_.tta_pipeline))
