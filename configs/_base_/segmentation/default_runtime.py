# Runtime of the segmentation configs: mmseg's (default_scope 'mmseg', SegLocalVisualizer,
# SegTTAModel for multi-scale testing) plus our code loaded by custom_imports, so that mmseg's
# own train/test scripts run these configs too. Logs and checkpoints by iteration (published:
# every 1000 iterations): the latest two, so a damaged last one still leaves one to resume
# from, each written then renamed (internimage/engine/atomic_checkpoints.py), and the best mIoU.
_base_ = 'mmseg::_base_/default_runtime.py'

custom_imports = dict(imports=['internimage.models', 'internimage.engine', 'segmentation'],
                      allow_failed_imports=False)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2,
                    save_best='mIoU', rule='greater',
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
