"""Models built by name, as in timm: ``internimage_t(**overrides)`` builds the classifier,
``create_backbone('internimage_t', out_indices=...)`` the detection/segmentation backbone. The
names are those of the variant table (``classification.models.variants``)."""
from .internimage import InternImage, InternImageClassifier
from .variants import ARCHS, MODEL_PREFIX, arch_of


def create_classifier(name, **overrides):
    return InternImageClassifier(arch=arch_of(name), **overrides)


def create_backbone(name, **overrides):
    return InternImage(arch=arch_of(name), **overrides)


def _named_constructor(arch):
    def build(**overrides):
        return create_classifier(arch, **overrides)
    build.__name__ = build.__qualname__ = MODEL_PREFIX + arch
    build.__doc__ = f'The InternImage-{arch.upper()} classifier; ``overrides`` as the model\'s.'
    return build


internimage_t, internimage_s, internimage_b, internimage_l, internimage_xl, internimage_h, \
    internimage_g = (_named_constructor(arch) for arch in ARCHS)
