# The multi-scale + flip test of Mask2Former-H on Cityscapes (published config
# mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes_ms.py): the single-scale
# config's model inside its TTA model, tested at 0.5 .. 1.75 of (2048, 1024) with flips. For
# testing only (tools/test.py CONFIG CHECKPOINT); train with the single-scale config.
_base_ = './mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes.py'

model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=_base_.tta_pipeline))
