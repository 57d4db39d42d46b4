"""The InternImage model: trunk, layers, heads, the variant record (architectures and released
checkpoints) and the one path for reading and converting checkpoints. Importing it registers
``InternImage`` (the dense backbone) and ``InternImageClassifier``, and their FlashInternImage
(DCNv4) twins, in mmengine's root MODELS registry (configs:
``custom_imports=dict(imports=['internimage.models'])``) and changes nothing else: no patches,
no timm, cv2 or FSDP."""
from .checkpoint import (LoadReport, extract_state_dict, load_checkpoint, load_state_dict_into,
                         map_22k_to_1k, mm_checkpoint, read_checkpoint, read_class_indices)
from .factory import (create_backbone, create_classifier, flash_internimage_b,
                      flash_internimage_l, flash_internimage_s, flash_internimage_t,
                      flash_internimage_test,
                      internimage_b, internimage_g, internimage_h, internimage_l, internimage_s,
                      internimage_t, internimage_test, internimage_xl)
from .internimage import (DenseOutputs, FlashInternImage, FlashInternImageClassifier,
                          InternImage, InternImageClassifier, InternImageTrunk)
from .variants import (ARCHS, FLASH_VARIANTS, PRETRAINED, PUBLISHED_VARIANTS, Pretrained,
                       arch_options, level_channels, pretrained_cfg, variant_name)

__all__ = ['InternImage', 'InternImageClassifier', 'InternImageTrunk', 'DenseOutputs', 'ARCHS',
           'FlashInternImage', 'FlashInternImageClassifier', 'FLASH_VARIANTS',
           'flash_internimage_t', 'flash_internimage_s', 'flash_internimage_b',
           'flash_internimage_l', 'flash_internimage_test', 'PUBLISHED_VARIANTS', 'PRETRAINED',
           'Pretrained', 'pretrained_cfg', 'variant_name',
           'arch_options', 'level_channels', 'create_backbone', 'create_classifier',
           'internimage_t', 'internimage_s', 'internimage_b', 'internimage_l', 'internimage_xl',
           'internimage_h', 'internimage_g', 'internimage_test', 'LoadReport', 'read_checkpoint',
           'extract_state_dict', 'load_state_dict_into', 'load_checkpoint', 'map_22k_to_1k',
           'read_class_indices', 'mm_checkpoint']
