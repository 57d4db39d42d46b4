"""InternImage (arXiv 2211.05778): backbone, classifier, named variants, checkpoint loading and
ImageNet-style training. Importing the package registers in mmengine's root registries (configs:
``custom_imports=dict(imports=['classification'])``) the models ``InternImage``,
``InternImageClassifier`` and ``ImageClassificationModel``, the dataset
``ImageClassificationDataset``, the metric ``TopKAccuracy``, the hook
``ClassificationVisualizationHook``, the optimizer-wrapper constructor
``InternImageLayerDecayConstructor`` and the optimizer wrapper ``BF16AutocastOptimWrapper`` (both
shared with detection and segmentation). It also allows mmengine's Runner checkpoints through
weights-only loading (``safe_loading``), so ``--resume`` works in every task, and registers the
file backend ``atomic_local`` that writes checkpoints crash-safely (``atomic_checkpoints``) and
the FSDP auto-wrap policy ``internimage_layer_wrap_policy`` and ``ShardedOptimWrapper``
(``sharding``)."""
from .atomic_checkpoints import AtomicLocalBackend, latest_complete_checkpoint
from .autocast_wrapper import BF16AutocastOptimWrapper
from .checkpoint import (LoadReport, extract_state_dict, load_checkpoint, load_state_dict_into,
                         map_22k_to_1k, mm_checkpoint, read_checkpoint, read_class_indices)
from .data import ImageClassificationDataset
from .internimage import InternImage, InternImageClassifier, InternImageTrunk
from .layer_decay import InternImageLayerDecayConstructor
from .metrics import TopKAccuracy
from .model import ImageClassificationModel
from .safe_loading import allow_checkpoint_globals
from .sharding import ShardedOptimWrapper, internimage_layer_wrap_policy
from .visualization import ClassificationVisualizationHook
from .variants import (VARIANTS, create_backbone, create_classifier, internimage_b,
                       internimage_g, internimage_h, internimage_l, internimage_s, internimage_t,
                       internimage_xl, variant_config)

__all__ = ['InternImage', 'InternImageClassifier', 'InternImageTrunk', 'VARIANTS',
           'create_backbone', 'create_classifier', 'variant_config', 'internimage_t',
           'internimage_s', 'internimage_b', 'internimage_l', 'internimage_xl', 'internimage_h',
           'internimage_g', 'LoadReport', 'read_checkpoint', 'extract_state_dict',
           'load_state_dict_into', 'load_checkpoint', 'map_22k_to_1k', 'read_class_indices',
           'mm_checkpoint', 'ImageClassificationDataset', 'ImageClassificationModel',
           'TopKAccuracy', 'ClassificationVisualizationHook', 'InternImageLayerDecayConstructor',
           'BF16AutocastOptimWrapper', 'allow_checkpoint_globals', 'AtomicLocalBackend',
           'latest_complete_checkpoint', 'internimage_layer_wrap_policy',
           'ShardedOptimWrapper']

allow_checkpoint_globals()
