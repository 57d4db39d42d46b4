"""Models built by name, as in timm: ``internimage_t(**overrides)`` builds the classifier,
``create_backbone('internimage_t', out_indices=...)`` the detection/segmentation backbone. The
names are those of the variant record (``internimage.models.variants``)."""
from .internimage import InternImage, InternImageClassifier
from .variants import variant_name


def create_classifier(name, **overrides):
    """The classifier of variant ``name`` (or its arch key), ``overrides`` over its options."""
    return InternImageClassifier(arch=variant_name(name), **overrides)


def create_backbone(name, **overrides):
    """The dense-prediction backbone of variant ``name``, ``overrides`` over its options."""
    return InternImage(arch=variant_name(name), **overrides)


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
