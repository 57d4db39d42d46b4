"""Models built by name, as in timm: ``internimage_t(**overrides)`` builds the classifier,
``create_backbone('internimage_t', out_indices=...)`` the detection/segmentation backbone;
likewise ``flash_internimage_t`` (FlashInternImage). The names are those of the variant record
(``internimage.models.variants``)."""
from .internimage import (FlashInternImage, FlashInternImageClassifier, InternImage,
                          InternImageClassifier)
from .variants import FLASH_PREFIX, variant_name


def create_classifier(name, **overrides):
    """The classifier of variant ``name`` (or its InternImage arch key), ``overrides`` over its
    options: an InternImageClassifier, or a FlashInternImageClassifier for flash_internimage_*."""
    variant = variant_name(name)
    cls = FlashInternImageClassifier if variant.startswith(FLASH_PREFIX) else \
        InternImageClassifier
    return cls(arch=variant, **overrides)


def create_backbone(name, **overrides):
    """The dense-prediction backbone of variant ``name``, ``overrides`` over its options."""
    variant = variant_name(name)
    cls = FlashInternImage if variant.startswith(FLASH_PREFIX) else InternImage
    return cls(arch=variant, **overrides)


def internimage_t(**overrides):
    """The InternImage-T classifier (30M parameters)."""
    return create_classifier('internimage_t', **overrides)


def internimage_s(**overrides):
    """The InternImage-S classifier (50M parameters)."""
    return create_classifier('internimage_s', **overrides)


def internimage_b(**overrides):
    """The InternImage-B classifier (97M parameters)."""
    return create_classifier('internimage_b', **overrides)


def internimage_l(**overrides):
    """The InternImage-L classifier (223M parameters)."""
    return create_classifier('internimage_l', **overrides)


def internimage_xl(**overrides):
    """The InternImage-XL classifier (335M parameters)."""
    return create_classifier('internimage_xl', **overrides)


def internimage_h(**overrides):
    """The InternImage-H classifier (1.08B parameters, attention-pooling head)."""
    return create_classifier('internimage_h', **overrides)


def internimage_g(**overrides):
    """The InternImage-G classifier (3B parameters, attention-pooling head)."""
    return create_classifier('internimage_g', **overrides)


def internimage_test(**overrides):
    """The unpublished tiny variant for tests (16 channels, one block per level)."""
    return create_classifier('internimage_test', **overrides)


def flash_internimage_t(**overrides):
    """The FlashInternImage-T classifier (30M parameters, DCNv4)."""
    return create_classifier('flash_internimage_t', **overrides)


def flash_internimage_s(**overrides):
    """The FlashInternImage-S classifier (50M parameters, DCNv4)."""
    return create_classifier('flash_internimage_s', **overrides)


def flash_internimage_b(**overrides):
    """The FlashInternImage-B classifier (97M parameters, DCNv4)."""
    return create_classifier('flash_internimage_b', **overrides)


def flash_internimage_l(**overrides):
    """The FlashInternImage-L classifier (223M parameters, DCNv4)."""
    return create_classifier('flash_internimage_l', **overrides)


def flash_internimage_test(**overrides):
    """The unpublished tiny FlashInternImage for tests (16 channels, one block per level)."""
    return create_classifier('flash_internimage_test', **overrides)
