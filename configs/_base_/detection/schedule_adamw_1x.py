# 12 epochs, lr steps at 8 and 11, 500 linear warm-up iterations (mmdet's 1x), with the published
# optimizer of the InternImage detectors: AdamW lr 1e-4, weight decay 0.05, through the shared
# layer-wise lr decay constructor with the published detection rule (rate 1.0: no decay; configs
# of larger models lower it; docs/tasks.md, "Layer-wise lr decay as published"). The lr is for
# 16 images per iteration (8 GPUs x 2). The warm-up reaches the lr at iteration 500 as mmcv's
# did (mmengine's LinearLR reaches it at end - 1).
_base_ = 'mmdet::_base_/schedules/schedule_1x.py'

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=501),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)]

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='InternImageLayerDecayConstructor',
    paramwise_cfg=dict(rule='published_detection', layer_decay_rate=1.0))

# The 3x schedule (36 epochs, steps at 27 and 33) for the 3x configs, which inherit a 1x config:
#   train_cfg = dict(max_epochs=36); param_scheduler = {{_base_.param_scheduler_3x}}
param_scheduler_3x = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=501),
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True, milestones=[27, 33], gamma=0.1)]
