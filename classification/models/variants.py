"""The InternImage variant table (docs/architecture.md, "Variants"): the one place the seven
published architectures are written down. Models and configs name a variant by its ``arch``
(``InternImage(arch='t')``, ``InternImageClassifier(arch='h')``) and state only what they change;
``level_channels`` gives necks and heads the widths of the levels they read.

These are the classification settings; the published detection/segmentation configs of T..XL
override ``layer_scale=1.0``."""

_H_G_COMMON = dict(dw_kernel_size=5, level2_post_norm=True, center_feature_scale=True,
                   use_clip_projector=True)

ARCHS = {
    't': dict(channels=64, depths=(4, 4, 18, 4), groups=(4, 8, 16, 32)),
    's': dict(channels=80, depths=(4, 4, 21, 4), groups=(5, 10, 20, 40), layer_scale=1e-5,
              post_norm=True),
    'b': dict(channels=112, depths=(4, 4, 21, 4), groups=(7, 14, 28, 56), layer_scale=1e-5,
              post_norm=True),
    'l': dict(channels=160, depths=(5, 5, 22, 5), groups=(10, 20, 40, 80), layer_scale=1e-5,
              post_norm=True, offset_scale=2.0),
    'xl': dict(channels=192, depths=(5, 5, 24, 5), groups=(12, 24, 48, 96), layer_scale=1e-5,
               post_norm=True, offset_scale=2.0),
    'h': dict(channels=320, depths=(6, 6, 32, 6), groups=(10, 20, 40, 80), res_post_norm=True,
              level2_post_norm_block_ids=(5, 11, 17, 23, 29), **_H_G_COMMON),
    'g': dict(channels=512, depths=(2, 2, 48, 4), groups=(16, 32, 64, 128), post_norm=True,
              level2_post_norm_block_ids=tuple(range(5, 48, 6)), **_H_G_COMMON),
}

# Options that only the classifier has (its head); a backbone leaves them out.
HEAD_OPTIONS = ('num_classes', 'use_clip_projector')
MODEL_PREFIX = 'internimage_'
# timm-style model names (``internimage_t``) of the variants
VARIANTS = {MODEL_PREFIX + arch: options for arch, options in ARCHS.items()}


def arch_of(name):
    """The arch key of a variant given by arch (``'t'``) or model name (``'internimage_t'``)."""
    arch = name[len(MODEL_PREFIX):] if name.startswith(MODEL_PREFIX) else name
    if arch not in ARCHS:
        raise KeyError(f"unknown InternImage variant '{name}' (known archs: {list(ARCHS)}, "
                       f'or model names {list(VARIANTS)})')
    return arch


def arch_options(arch, head=True):
    """A copy of the table's options of ``arch``; ``head=False`` leaves the head options out."""
    options = dict(ARCHS[arch_of(arch)])
    if not head:
        for option in HEAD_OPTIONS:
            options.pop(option, None)
    return options


def with_arch(arch, options, head=True):
    """``options`` over the table's options of ``arch`` (``options`` alone when arch is None)."""
    return dict(options) if arch is None else {**arch_options(arch, head), **options}


def level_widths(channels, num_levels):
    """Channels of each level: the stem's ``channels``, doubled by every downsample."""
    return tuple(channels * 2 ** i for i in range(num_levels))


def level_channels(arch, out_indices=(0, 1, 2, 3), channels=None):
    """Channels of the levels ``out_indices`` of ``arch`` (with its stem width overridden by
    ``channels``): a neck's or head's ``in_channels``."""
    options = ARCHS[arch_of(arch)]
    widths = level_widths(channels or options['channels'], len(options['depths']))
    return [widths[i] for i in out_indices]
