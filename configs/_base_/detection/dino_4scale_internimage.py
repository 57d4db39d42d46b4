# DINO 4-scale (mmdet's, 900 queries, 12 epochs, DETR multi-scale + crop training) on an
# InternImage backbone: three levels (strides 8, 16, 32) into a ChannelMapper that adds a fourth,
# as in the published configs. Optimizer as published: AdamW lr 1e-4, weight decay 1e-4,
# gradient clipping 0.1, layer-wise lr decay through the shared constructor with the published
# detection rule (rate set by the config), 500 linear warm-up iterations (end=501: mmengine's
# LinearLR reaches the lr at end - 1, mmcv's warm-up at 500), lr step at epoch 11.
# Data as the published configs ran (mmdet's DINO base differs): images padded to a multiple of
# 32 in training and test, and the crop of the multi-scale + crop augmentation keeps only crops
# with boxes in them (allow_negative_crop=False, mmdet 2's default).
_base_ = 'mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py'

custom_imports = dict(imports=['internimage.models', 'internimage.engine', 'detection'],
                      allow_failed_imports=False)
# as every task's: checkpoints written then renamed (internimage/engine/atomic_checkpoints.py)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto',
                                     backend_args=dict(backend='atomic_local')))

model = dict(backbone=dict(_delete_=True, type='InternImage', out_indices=(1, 2, 3)),
             data_preprocessor=dict(pad_size_divisor=32))
multi_scales = [(480, 1333), (512, 1333), (544, 1333), (576, 1333), (608, 1333), (640, 1333),
                (672, 1333), (704, 1333), (736, 1333), (768, 1333), (800, 1333)]
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoice', transforms=[
        [dict(type='RandomChoiceResize', scales=multi_scales, keep_ratio=True)],
        [dict(type='RandomChoiceResize', scales=[(400, 4200), (500, 4200), (600, 4200)],
              keep_ratio=True),
         dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600),
              allow_negative_crop=False),
         dict(type='RandomChoiceResize', scales=multi_scales, keep_ratio=True)]]),
    dict(type='PackDetInputs')]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    constructor='InternImageLayerDecayConstructor',
    paramwise_cfg=dict(rule='published_detection', layer_decay_rate=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=501),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[11], gamma=0.1)]
