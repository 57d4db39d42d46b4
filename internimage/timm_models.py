"""InternImage and FlashInternImage as timm models. Importing this module registers every variant
of the record (``variants.ARCHS``) with timm's ``register_model`` and the released checkpoints
(``variants.PRETRAINED``) as its pretrained configs, so that

    import internimage.timm_models
    model = timm.create_model('internimage_t.in1k', pretrained=True)
    backbone = timm.create_model('internimage_t', features_only=True, out_indices=(1, 2, 3))

work; a local copy of a release through ``pretrained_cfg_overlay=dict(file=PATH)``. The models
are our classifiers (the same modules and state-dict names as the published models) with
timm's interface: ``forward_features`` (unpooled map), ``forward_head``, ``reset_classifier``,
``forward_intermediates`` and ``feature_info`` (the levels, strides 4 to 32). Released files,
in whatever layout they were published, load through ``internimage.models.load_checkpoint``.
"""
from typing import List, Optional, Tuple, Union

import torch
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
from timm.models._features import feature_take_indices
from torch import nn

from internimage.models.checkpoint import load_checkpoint
from internimage.models.internimage import FlashInternImageClassifier, InternImageClassifier
from internimage.models.layers import channels_first_view
from internimage.models.variants import ARCHS, FLASH_PREFIX, PRETRAINED

FIRST_STRIDE = 4  # the stem's; each level after the first halves the resolution


class TimmInterface:
    """timm's model API over an InternImage classifier (mixed into its class)."""

    def setup_timm(self, global_pool='avg'):
        if global_pool not in ('avg', ''):
            raise ValueError(f"global_pool must be 'avg' or '' (no pooling), got {global_pool!r}")
        self.global_pool = global_pool
        self.num_classes = getattr(self.head, 'out_features', 0)
        self.head_hidden_size = self.pooled_features
        self.num_features = self.unpooled_channels()
        self.feature_info = [dict(num_chs=channels, reduction=FIRST_STRIDE * 2 ** i,
                                  module=f'levels.{i}')
                             for i, channels in enumerate(self.level_channels)]

    def unpooled_channels(self):
        if self.use_clip_projector:
            return self.dcnv3_head_x3.out_channels
        return self.level_channels[-1]

    def forward_features(self, x):
        """The unpooled NCHW map the head pools (timm's meaning, unlike the classifier's)."""
        return self.unpooled_features(self.forward_levels(x))

    def forward_head(self, x, pre_logits: bool = False):
        x = self.pool_features(x, pool=self.global_pool == 'avg')
        return x if pre_logits else self.head(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))

    def get_classifier(self):
        return self.head

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        if global_pool is not None:
            self.setup_timm(global_pool)
        self.num_classes = num_classes
        self.head = nn.Linear(self.head_hidden_size, num_classes) if num_classes > 0 \
            else nn.Identity()

    def forward_intermediates(
            self, x: torch.Tensor, indices: Optional[Union[int, List[int]]] = None,
            norm: bool = False, stop_early: bool = False, output_fmt: str = 'NCHW',
            intermediates_only: bool = False,
    ) -> Union[List[torch.Tensor], Tuple[torch.Tensor, List[torch.Tensor]]]:
        """The levels' NCHW outputs at ``indices`` (timm's rule: the last n levels for an int,
        all for None) and, unless ``intermediates_only``, the ``forward_features`` map (with
        ``stop_early``, the last level run instead). ``norm`` changes nothing: the levels have
        no final norm."""
        if output_fmt != 'NCHW':
            raise ValueError(f"output_fmt must be 'NCHW', got {output_fmt!r}")
        take, last = feature_take_indices(len(self.levels), indices)
        levels = self.levels[:last + 1] if stop_early or intermediates_only else self.levels
        outputs, x = [], self.patch_embed(x)
        for level in levels:
            output, x = level(x)
            outputs.append(output)
        intermediates = [channels_first_view(outputs[i]) for i in take]
        if intermediates_only:
            return intermediates
        if len(outputs) < len(self.levels):
            return channels_first_view(outputs[-1]), intermediates
        return self.unpooled_features(outputs), intermediates

    def prune_intermediate_layers(self, indices: Union[int, List[int]] = 1,
                                  prune_norm: bool = False, prune_head: bool = True):
        """Drops the levels after the last of ``indices`` (and the head); returns the indices
        to take."""
        take, last = feature_take_indices(len(self.levels), indices)
        if self.use_clip_projector and prune_head is False and last < len(self.levels) - 1:
            raise ValueError('the attention-pooling head needs the last two levels')
        self.levels = self.levels[:last + 1]
        if prune_head:
            for name in ('conv_head', 'dcnv3_head_x4', 'dcnv3_head_x3', 'clip_projector',
                         'fc_norm'):
                if hasattr(self, name):
                    setattr(self, name, nn.Identity())
            self.head = nn.Identity()
            self.num_classes = 0
        return take

    def load_pretrained(self, path):
        """timm's hook for a release (custom_load): any published layout, the trunk complete."""
        report = load_checkpoint(self, path, use_ema=self.pretrained_use_ema)
        if report.missing or report.unexpected:
            raise ValueError(f'{path} does not fit {self.arch}: {report.describe()}')


def our_options(options):
    """timm's builder arguments in our names: ``in_chans`` is ``in_channels``; ``drop_rate``
    (dropout before the head) has no place in the published heads."""
    options = dict(options)
    if 'in_chans' in options:
        options['in_channels'] = options.pop('in_chans')
    if options.pop('drop_rate', 0.0):
        raise ValueError('drop_rate: the InternImage heads have no dropout (drop_path_rate is '
                         'the stochastic depth of the blocks)')
    return options


class TimmInternImage(TimmInterface, InternImageClassifier):
    """InternImage as a timm model."""

    def __init__(self, arch=None, global_pool='avg', **options):
        super().__init__(arch, **our_options(options))
        self.setup_timm(global_pool)


class TimmFlashInternImage(TimmInterface, FlashInternImageClassifier):
    """FlashInternImage as a timm model."""

    def __init__(self, arch=None, global_pool='avg', **options):
        super().__init__(arch, **our_options(options))
        self.setup_timm(global_pool)


def reduction(variant):
    """The stride of the map the head pools: 32 (last level), 16 for the attention-pooling
    head's token map."""
    return 16 if ARCHS[variant].get('use_clip_projector') else 32


def pretrained_cfgs():
    """timm's pretrained configs: each release of PRETRAINED (URL, evaluation preprocessing, head
    size; an ImageNet-22k pre-training checkpoint builds without a head), plus an untagged
    config for each variant without a release."""
    def cfg(variant, size, **fields):
        return dict(input_size=(3, size, size), pool_size=(size // reduction(variant),) * 2,
                    first_conv='patch_embed.conv1', classifier='head', **fields)

    cfgs = {}
    for key, release in PRETRAINED.items():
        cfgs[key] = cfg(key.split('.')[0], release.input_size, url=release.url, custom_load=True,
                        num_classes=release.num_classes or 0, crop_pct=release.crop_pct,
                        interpolation=release.interpolation, mean=release.mean,
                        std=release.std, license='mit')
    for variant in ARCHS:
        if not any(key.startswith(variant + '.') for key in PRETRAINED):
            cfgs[variant] = cfg(variant, 224, num_classes=1000, crop_pct=1.0,
                                interpolation='bicubic')
    return generate_default_cfgs(cfgs)


default_cfgs = pretrained_cfgs()


def create(variant, pretrained=False, **kwargs):
    """Builds ``variant`` through timm's builder: its pretrained config, released weights
    through our loader, ``features_only`` through ``forward_intermediates``."""
    overlay = dict(kwargs.pop('pretrained_cfg_overlay', None) or {})
    overlay.setdefault('custom_load', True)  # a local file (overlay 'file') is a release too
    cls = TimmFlashInternImage if variant.startswith(FLASH_PREFIX) else TimmInternImage
    kwargs.setdefault('arch', variant)
    return build_model_with_cfg(
        cls, variant, pretrained, pretrained_cfg_overlay=overlay,
        feature_cfg=dict(feature_cls='getter', out_indices=tuple(range(len(
            ARCHS[variant]['depths'])))),
        **kwargs)


def _entrypoint(variant):
    def entrypoint(pretrained=False, **kwargs):
        return create(variant, pretrained, **kwargs)
    entrypoint.__name__ = variant
    entrypoint.__qualname__ = variant
    entrypoint.__module__ = __name__
    entrypoint.__doc__ = f'{variant} (internimage.models.variants.ARCHS) as a timm model.'
    return entrypoint


for _variant in ARCHS:
    globals()[_variant] = register_model(_entrypoint(_variant))

__all__ = ['TimmInternImage', 'TimmFlashInternImage', 'default_cfgs', *ARCHS]
