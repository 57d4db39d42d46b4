# Runtime of the detection configs: mmdet's (default_scope 'mmdet', DetLocalVisualizer, pictures
# with --show-dir through DetVisualizationHook) plus our code loaded by custom_imports, so that
# mmdet's own scripts run these configs too. Checkpoints as published: keep 3, and the best;
# each written then renamed (internimage/engine/atomic_checkpoints.py).
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['internimage.models', 'internimage.engine', 'detection'],
                      allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto',
                                     backend_args=dict(backend='atomic_local')))
