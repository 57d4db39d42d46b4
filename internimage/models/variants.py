"""The InternImage variants (docs/architecture.md, "Variants"), one record each: the
architecture (``ARCHS``) and, beside it as timm keeps ``default_cfgs`` beside a model, what was
released for it (``PRETRAINED``: files, where they are published, the test-time preprocessing
of their published evaluation).

A variant is named ``internimage_<arch>`` (``internimage_t``), or ``flash_internimage_<arch>``
for FlashInternImage (InternImage on DCNv4, docs/architecture.md, "FlashInternImage"); the arch
key alone (``'t'``) is an alias within its family, accepted wherever a variant is named
(``InternImage(arch='t')``, ``FlashInternImage(arch='t')`` in configs). Models and
configs state only what they change; ``level_channels`` gives necks and heads the widths of the
levels they read. The architecture options are the classification settings; the published
detection/segmentation configs of T..XL override ``layer_scale=1.0``.
"""
from typing import NamedTuple, Optional

MODEL_PREFIX = 'internimage_'
FLASH_PREFIX = 'flash_internimage_'
# The published FlashInternImage class's defaults: what a FlashInternImage model built without
# arch gets, and (offset_scale aside, which every variant states) what its variants keep: the
# DCNv4 module without an output bias, an fc2 without bias (L turns both on).
FLASH_DEFAULTS = dict(core_op='DCNv4', offset_scale=0.5, dcn_output_bias=False,
                      mlp_fc2_bias=False)
_FLASH_COMMON = {k: v for k, v in FLASH_DEFAULTS.items() if k != 'offset_scale'}
_H_G_COMMON = dict(dw_kernel_size=5, level2_post_norm=True, center_feature_scale=True,
                   use_clip_projector=True)

ARCHS = {
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
    # Not published: the smallest network with every part of T (four levels, DCNv3, the conv
    # head), for tests and quick experiments, as timm registers its test_* models.
    'internimage_test': dict(channels=16, depths=(1, 1, 1, 1), groups=(1, 2, 4, 8)),
    # FlashInternImage (OpenGVLab/DCNv4, classification/configs/*.yaml)
    'flash_internimage_t': dict(channels=64, depths=(4, 4, 18, 4), groups=(4, 8, 16, 32),
                                offset_scale=1.0, **_FLASH_COMMON),
    'flash_internimage_s': dict(channels=80, depths=(4, 4, 21, 4), groups=(5, 10, 20, 40),
                                layer_scale=1e-5, offset_scale=1.0, post_norm=True,
                                dw_kernel_size=3, **_FLASH_COMMON),
    'flash_internimage_b': dict(channels=112, depths=(4, 4, 21, 4), groups=(7, 14, 28, 56),
                                layer_scale=1e-5, offset_scale=0.5, post_norm=True,
                                dw_kernel_size=3, **_FLASH_COMMON),
    'flash_internimage_l': dict(channels=160, depths=(5, 5, 22, 5), groups=(10, 20, 40, 80),
                                layer_scale=1e-5, offset_scale=2.0, post_norm=True,
                                dw_kernel_size=3, **{**_FLASH_COMMON, 'dcn_output_bias': True,
                                                     'mlp_fc2_bias': True}),
    'flash_internimage_test': dict(channels=16, depths=(1, 1, 1, 1), groups=(1, 2, 4, 8),
                                   dw_kernel_size=3, **_FLASH_COMMON),
}
PUBLISHED_VARIANTS = ('internimage_t', 'internimage_s', 'internimage_b', 'internimage_l',
                      'internimage_xl', 'internimage_h', 'internimage_g')
FLASH_VARIANTS = ('flash_internimage_t', 'flash_internimage_s', 'flash_internimage_b',
                  'flash_internimage_l')
# Options that only the classifier has (its head); a backbone leaves them out.
HEAD_OPTIONS = ('num_classes', 'use_clip_projector')

HUB = 'https://huggingface.co/OpenGVLab/InternImage/resolve/main/'
FLASH_HUB = 'https://huggingface.co/OpenGVLab/DCNv4/resolve/main/'
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Pretrained(NamedTuple):
    """A released checkpoint of a variant: ``file`` as published at ``hub``, the classes of
    its head (None: an ImageNet-22k pre-training checkpoint, used to initialise the downstream
    backbones) and the test-time preprocessing of its evaluation: resize so that the centre
    crop of ``crop_pct`` of the short side is ``input_size``, ``interpolation``, mean/std."""
    file: str
    input_size: int
    crop_pct: float
    num_classes: Optional[int] = 1000
    interpolation: str = 'bicubic'
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    hub: str = HUB

    @property
    def url(self):
        return self.hub + self.file


# Keyed '<variant>.<tag>' as timm's pretrained tags; the first tag of a variant is its default.
PRETRAINED = {
    'internimage_t.in1k': Pretrained('internimage_t_1k_224.pth', 224, 1.0),
    'internimage_s.in1k': Pretrained('internimage_s_1k_224.pth', 224, 1.0),
    'internimage_b.in1k': Pretrained('internimage_b_1k_224.pth', 224, 1.0),
    'internimage_l.in22k_ft_in1k': Pretrained('internimage_l_22kto1k_384.pth', 384, 1.0),
    'internimage_l.in22k': Pretrained('internimage_l_22k_192to384.pth', 384, 1.0, None),
    'internimage_xl.in22k_ft_in1k': Pretrained('internimage_xl_22kto1k_384.pth', 384, 1.0),
    'internimage_xl.in22k': Pretrained('internimage_xl_22k_192to384.pth', 384, 1.0, None),
    'internimage_h.in22k_ft_in1k_640': Pretrained('internimage_h_22kto1k_640.pth', 640, 1.0),
    'internimage_h.in22k_ft_in1k_384': Pretrained('internimage_h_22kto1k_384.pth', 384, 1.0),
    'internimage_h.in22k': Pretrained('internimage_h_jointto22k_384.pth', 384, 1.0, None),
    'internimage_g.in22k_ft_in1k': Pretrained('internimage_g_22kto1k_512.pth', 512, 1.0),
    'internimage_g.in22k': Pretrained('internimage_g_pretrainto22k_384.pth', 384, 1.0, None),
    'flash_internimage_t.in1k': Pretrained('flash_intern_image_t_1k_224.pth', 224, 1.0,
                                           hub=FLASH_HUB),
    'flash_internimage_s.in1k': Pretrained('flash_intern_image_s_1k_224.pth', 224, 1.0,
                                           hub=FLASH_HUB),
    'flash_internimage_b.in1k': Pretrained('flash_intern_image_b_1k_224.pth', 224, 1.0,
                                           hub=FLASH_HUB),
    'flash_internimage_l.in22k_ft_in1k': Pretrained('flash_internimage_l_22kto1k_384.pth', 384,
                                                    1.0, hub=FLASH_HUB),
}


def variant_name(name, prefix=MODEL_PREFIX):
    """The variant name of ``name``, given as a variant name (``'internimage_t'``,
    ``'flash_internimage_t'``) or an arch key (``'t'``), the alias of the variant of that key
    in the family of ``prefix``; a KeyError naming the known variants otherwise."""
    full = str(name) if str(name) in ARCHS else f'{prefix}{name}'
    if full not in ARCHS:
        family = [v for v in ARCHS if v.startswith(prefix)]
        raise KeyError(f"unknown InternImage variant '{name}' (known: {list(ARCHS)}, or the "
                       f"arch keys {[v[len(prefix):] for v in family]} of {prefix}*)")
    return full


def pretrained_cfg(name, prefix=MODEL_PREFIX):
    """The Pretrained record of ``'<variant>.<tag>'``, or of a variant's default (first) tag
    when no tag is given (an arch key names a variant of the family of ``prefix``); a KeyError
    naming what exists otherwise."""
    variant, _, tag = str(name).partition('.')
    variant = variant_name(variant, prefix)
    tags = [key for key in PRETRAINED if key.startswith(variant + '.')]
    key = f'{variant}.{tag}' if tag else (tags[0] if tags else None)
    if key not in PRETRAINED:
        raise KeyError(f"no released checkpoint '{name}' of {variant} (released: "
                       f'{tags or "none"})')
    return PRETRAINED[key]


def arch_options(name, head=True, prefix=MODEL_PREFIX):
    """A copy of the architecture options of variant ``name``; ``head=False`` leaves the head
    options out."""
    options = dict(ARCHS[variant_name(name, prefix)])
    if not head:
        for option in HEAD_OPTIONS:
            options.pop(option, None)
    return options


def with_arch(arch, options, head=True, prefix=MODEL_PREFIX):
    """``options`` over the options of variant ``arch`` (``options`` alone when arch is None)."""
    return dict(options) if arch is None else {**arch_options(arch, head, prefix), **options}


def level_widths(channels, num_levels):
    """Channels of each level: the stem's ``channels``, doubled by every downsample."""
    return tuple(channels * 2 ** i for i in range(num_levels))


def level_channels(arch, out_indices=(0, 1, 2, 3), channels=None):
    """Channels of the levels ``out_indices`` of variant ``arch`` (with its stem width
    overridden by ``channels``): a neck's or head's ``in_channels``."""
    options = ARCHS[variant_name(arch)]
    widths = level_widths(channels or options['channels'], len(options['depths']))
    return [widths[i] for i in out_indices]
