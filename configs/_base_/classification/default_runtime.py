# Runtime shared by the classification configs: mmengine's root registries (no default scope),
# our code loaded through custom_imports, top-1/top-5 evaluation, pictures with --show-dir.
custom_imports = dict(
    imports=['internimage.models', 'internimage.engine', 'classification'],
    allow_failed_imports=False)
default_scope = None

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='accuracy/top1', rule='greater',
                    backend_args=dict(backend='atomic_local')),  # write, then rename
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='ClassificationVisualizationHook', draw=False))

env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
log_processor = dict(window_size=10, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

val_evaluator = dict(type='TopKAccuracy', topk=(1, 5))
test_evaluator = val_evaluator
