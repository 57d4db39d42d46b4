# The published UperNet schedule: 160k iterations, AdamW (wd 0.05) with layer-wise lr decay
# (the published segmentation rule, rate set per config; docs/tasks.md, "Layer-wise lr decay as
# published"), linear warm-up over 1500 iterations from 1e-6 of the lr, then poly decay
# (power 1.0) to 0; validation every 16k iterations. No weight decay for norms and biases.
max_iters = 160000
warmup_iters = 1500

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='InternImageLayerDecayConstructor',
    paramwise_cfg=dict(rule='published_segmentation', layer_decay_rate=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=16000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
