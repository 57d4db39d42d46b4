"""InternImage (arXiv 2211.05778): backbone, classifier, named variants and checkpoint loading.
Importing the package registers ``InternImage`` and ``InternImageClassifier`` in mmengine's root
MODELS registry (configs: ``custom_imports=dict(imports=['classification'])``)."""
from .checkpoint import (LoadReport, extract_state_dict, load_checkpoint, load_state_dict_into,
                         map_22k_to_1k, mm_checkpoint, read_checkpoint, read_class_indices)
from .internimage import InternImage, InternImageClassifier, InternImageTrunk
from .variants import (VARIANTS, create_backbone, create_classifier, internimage_b,
                       internimage_g, internimage_h, internimage_l, internimage_s, internimage_t,
                       internimage_xl, variant_config)

__all__ = ['InternImage', 'InternImageClassifier', 'InternImageTrunk', 'VARIANTS',
           'create_backbone', 'create_classifier', 'variant_config', 'internimage_t',
           'internimage_s', 'internimage_b', 'internimage_l', 'internimage_xl', 'internimage_h',
           'internimage_g', 'LoadReport', 'read_checkpoint', 'extract_state_dict',
           'load_state_dict_into', 'load_checkpoint', 'map_22k_to_1k', 'read_class_indices',
           'mm_checkpoint']
