# The published UperNet schedule: 160k iterations, AdamW (wd 0.05) with layer-wise lr decay
# (the published segmentation rule, rate set per config; docs/tasks.md, "Layer-wise lr decay as
# published"), poly decay (power 1.0) to 0 over all 160k iterations, multiplied during the first
# 1500 by a linear warm-up from 1e-6: mmcv's poly with warm-up, as the published code ran (at
# iteration 1500 the lr is 0.99 of the base; mmseg 1.x's own schedules start the poly after the
# warm-up instead). mmengine's schedulers reach their last value at end - 1, mmcv's at the
# iteration count: hence the ends one past it. Validation every 16k iterations. No weight decay
# for norms and biases.
max_iters = 160000
warmup_iters = 1500

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='InternImageLayerDecayConstructor',
    paramwise_cfg=dict(rule='published_segmentation', layer_decay_rate=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=warmup_iters + 1),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=16000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
