# COCO instances as in mmdet (1333x800, flip), plus the published multi-scale + crop training
# pipeline of the 3x configs (from DETR: short side 480..800, or resize 400..600, crop 384..600
# and resize again), which a 3x config selects with
#   train_dataloader = dict(dataset=dict(pipeline={{_base_.ms_crop_train_pipeline}}))
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

multi_scales = [(480, 1333), (512, 1333), (544, 1333), (576, 1333), (608, 1333), (640, 1333),
                (672, 1333), (704, 1333), (736, 1333), (768, 1333), (800, 1333)]
ms_crop_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoice', transforms=[
        [dict(type='RandomChoiceResize', scales=multi_scales, keep_ratio=True)],
        [dict(type='RandomChoiceResize', scales=[(400, 1333), (500, 1333), (600, 1333)],
              keep_ratio=True),
         dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600),
              allow_negative_crop=True),
         dict(type='RandomChoiceResize', scales=multi_scales, keep_ratio=True)]]),
    dict(type='PackDetInputs')]
