"""The named InternImage configurations (REFERENCE.md section 3 table), kept apart from the
architecture as in timm: ``internimage_t(**overrides)`` builds the classifier,
``create_backbone('internimage_t', out_indices=...)`` the detection/segmentation backbone.

These are the classification settings; the published detection/segmentation configs of T..XL
override ``layer_scale=1.0``."""
import inspect

from .internimage import InternImage, InternImageClassifier, InternImageTrunk

_H_G_COMMON = dict(dw_kernel_size=5, level2_post_norm=True, center_feature_scale=True,
                   use_clip_projector=True)

VARIANTS = {
    'internimage_t': dict(channels=64, depths=(4, 4, 18, 4), groups=(4, 8, 16, 32)),
    'internimage_s': dict(channels=80, depths=(4, 4, 21, 4), groups=(5, 10, 20, 40),
                          layer_scale=1e-5, post_norm=True),
    'internimage_b': dict(channels=112, depths=(4, 4, 21, 4), groups=(7, 14, 28, 56),
                          layer_scale=1e-5, post_norm=True),
    'internimage_l': dict(channels=160, depths=(5, 5, 22, 5), groups=(10, 20, 40, 80),
                          layer_scale=1e-5, post_norm=True, offset_scale=2.0),
    'internimage_xl': dict(channels=192, depths=(5, 5, 24, 5), groups=(12, 24, 48, 96),
                           layer_scale=1e-5, post_norm=True, offset_scale=2.0),
    'internimage_h': dict(channels=320, depths=(6, 6, 32, 6), groups=(10, 20, 40, 80),
                          res_post_norm=True, level2_post_norm_block_ids=(5, 11, 17, 23, 29),
                          **_H_G_COMMON),
    'internimage_g': dict(channels=512, depths=(2, 2, 48, 4), groups=(16, 32, 64, 128),
                          post_norm=True, level2_post_norm_block_ids=tuple(range(5, 48, 6)),
                          **_H_G_COMMON),
}

# Options that only the classifier has (its head); a backbone leaves them out.
HEAD_OPTIONS = ('num_classes', 'use_clip_projector')


def _allowed_options(model_class):
    """The keyword options of ``model_class``: its own plus the trunk's it passes on."""
    parameters = {**inspect.signature(InternImageTrunk.__init__).parameters,
                  **inspect.signature(model_class.__init__).parameters}
    return {name for name, p in parameters.items()
            if name != 'self' and p.kind is not inspect.Parameter.VAR_KEYWORD}


def variant_config(name, model_class=InternImageClassifier, **overrides):
    """The keyword arguments that build ``model_class`` as variant ``name`` with ``overrides``;
    unknown names and options fail here, with the valid ones listed."""
    if name not in VARIANTS:
        raise KeyError(f"unknown InternImage variant '{name}' (known: {sorted(VARIANTS)})")
    config = dict(VARIANTS[name])
    if model_class is not InternImageClassifier:
        for option in HEAD_OPTIONS:
            config.pop(option, None)
    allowed = _allowed_options(model_class)
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise TypeError(f'unknown option(s) {unknown} for {model_class.__name__} '
                        f'(valid: {sorted(allowed)})')
    config.update(overrides)
    return config


def create_classifier(name, **overrides):
    return InternImageClassifier(**variant_config(name, InternImageClassifier, **overrides))


def create_backbone(name, **overrides):
    return InternImage(**variant_config(name, InternImage, **overrides))


def internimage_t(**overrides):
    return create_classifier('internimage_t', **overrides)


def internimage_s(**overrides):
    return create_classifier('internimage_s', **overrides)


def internimage_b(**overrides):
    return create_classifier('internimage_b', **overrides)


def internimage_l(**overrides):
    return create_classifier('internimage_l', **overrides)


def internimage_xl(**overrides):
    return create_classifier('internimage_xl', **overrides)


def internimage_h(**overrides):
    return create_classifier('internimage_h', **overrides)


def internimage_g(**overrides):
    return create_classifier('internimage_g', **overrides)
