"""The training engine that classification, detection and segmentation share. Importing it
(configs: ``custom_imports=dict(imports=[..., 'internimage.engine'])``; the launchers import
it too) registers in mmengine's root registries the optimizer-wrapper constructor
``InternImageLayerDecayConstructor``, the optimizer wrappers ``BF16AutocastOptimWrapper`` and
``ShardedOptimWrapper``, the FSDP strategy ``InternImageFSDPStrategy`` and policy
``internimage_layer_wrap_policy``, and installs two
patches into this process, on purpose and only here:

- weights-only loading that allows our checkpoints' metadata, for mmengine's own loads
  (``safe_loading``: torch's safe-globals list, mmengine's local checkpoint loader);
- the crash-safe checkpoint file backend ``atomic_local`` (``atomic_checkpoints``).

A config, override or launch environment it cannot work with raises ``UsageError``
(``errors``), never ``SystemExit``: the tools turn it into their exit."""
from . import atomic_checkpoints, safe_loading
from .atomic_checkpoints import AtomicLocalBackend, latest_complete_checkpoint
from .autocast_wrapper import BF16AutocastOptimWrapper
from .config import load_config
from .errors import UsageError
from .layer_decay import InternImageLayerDecayConstructor
from .sharding import (InternImageFSDPStrategy, ShardedOptimWrapper,
                       internimage_layer_wrap_policy)
from .tasks import TASKS, task_of

__all__ = ['AtomicLocalBackend', 'latest_complete_checkpoint', 'BF16AutocastOptimWrapper',
           'InternImageFSDPStrategy', 'InternImageLayerDecayConstructor', 'ShardedOptimWrapper',
           'internimage_layer_wrap_policy', 'load_config', 'TASKS', 'task_of', 'UsageError']

safe_loading.install()
atomic_checkpoints.install()
