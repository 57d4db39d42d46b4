"""The InternImage trunk, its dense-prediction backbone and its classifier
(docs/architecture.md).

One implementation of stem + levels (``InternImageTrunk``) serves all: ``InternImage`` returns
NCHW feature maps for mmdet/mmseg necks, ``InternImageClassifier`` adds the published heads, and
the composite backbone of detection reuses the trunk's level loop. A model names its variant
with ``arch`` (``internimage.models.variants``) and states only the options it changes. The
models are registered in mmengine's root MODELS registry, which mmdet's and mmseg's registries
search through their parent.
"""
import numpy as np
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from ops_dcnv3 import DCNv3, DCNv4, build_norm_layer

from .checkpoint import load_checkpoint
from .heads import (CLIP_EMBED_DIM, CONV_HEAD_SCALE, AttentionPooling, build_clip_token_convs,
                    build_conv_head)
from .layers import InternImageLevel, StemLayer, channels_first_view, resolve_core_op
from .variants import FLASH_DEFAULTS, FLASH_PREFIX, MODEL_PREFIX, level_widths, with_arch

STEM_STRIDE = 4


def init_internimage_weights(module):
    """The published initialisation: truncated-normal Linear weights with zero biases, then the
    deformable modules' own reset (zero offsets and masks), which the first pass would
    overwrite."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    for m in module.modules():
        if isinstance(m, (DCNv3, DCNv4)):
            m._reset_parameters()


def pretrained_checkpoint(init_cfg):
    """The checkpoint path of a ``dict(type='Pretrained', checkpoint=PATH)`` init_cfg, else
    None: such init_cfgs go through our loader (mmengine's would neither strip ``backbone.``
    nor skip the classification head)."""
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        return init_cfg['checkpoint']
    return None


def check_image_batch(x, in_channels, owner):
    if x.dim() != 4 or x.shape[1] != in_channels:
        raise ValueError(f'{owner}: expected an (N, {in_channels}, H, W) image batch, got '
                         f'shape {tuple(x.shape)}')


class InternImageTrunk(BaseModule):
    """Stem and levels, shared by the backbone, the classifier and the composite backbone.
    ``forward_levels`` gives every level's NHWC output before its downsample; ``stem=False``
    builds the levels only (the lead trunk of a composite backbone shares another's stem).

    An ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` loads any published checkpoint
    layout through ``internimage.models.checkpoint`` (prefixes stripped, head skipped by a
    backbone, mismatches reported)."""

    def __init__(self, channels=64, depths=(4, 4, 18, 4), groups=(4, 8, 16, 32), mlp_ratio=4.0,
                 drop_path_rate=0.0, core_op='DCNv3', act_layer='GELU', norm_layer='LN',
                 layer_scale=None, offset_scale=1.0, post_norm=False, res_post_norm=False,
                 level2_post_norm=False, level2_post_norm_block_ids=None,
                 center_feature_scale=False, remove_center=False, dw_kernel_size=None,
                 use_dcn_v4_op=False, dcn_output_bias=True, mlp_fc2_bias=True, with_cp=False,
                 in_channels=3, stem=True, init_cfg=None):
        super().__init__(init_cfg)
        if len(depths) != len(groups):
            raise ValueError(f'depths {list(depths)} and groups {list(groups)} must have one '
                             'entry per level')
        if level2_post_norm and not level2_post_norm_block_ids:
            raise ValueError('level2_post_norm=True needs level2_post_norm_block_ids')
        core = resolve_core_op(core_op)
        self.in_channels = in_channels
        self.act_layer = act_layer
        self.level_channels = level_widths(channels, len(depths))
        self.num_features = self.level_channels[-1]
        if stem:
            self.patch_embed = StemLayer(in_channels, channels, act_layer, norm_layer)
        # Python floats (not a tensor) so that building on the meta device works.
        drop_path_rates = np.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.levels = nn.ModuleList()
        for i, (depth, group) in enumerate(zip(depths, groups)):
            first = sum(depths[:i])
            self.levels.append(InternImageLevel(
                channels=self.level_channels[i], depth=depth,
                drop_path=drop_path_rates[first:first + depth],
                downsample=i < len(depths) - 1, norm_layer=norm_layer, post_norm=post_norm,
                center_feature_scale=center_feature_scale,
                post_norm_block_ids=level2_post_norm_block_ids if level2_post_norm and i == 2
                else None,
                core_op=core, groups=group, mlp_ratio=mlp_ratio, act_layer=act_layer,
                res_post_norm=res_post_norm, layer_scale=layer_scale, offset_scale=offset_scale,
                dw_kernel_size=dw_kernel_size, remove_center=remove_center,
                use_dcn_v4_op=use_dcn_v4_op, dcn_output_bias=dcn_output_bias,
                mlp_fc2_bias=mlp_fc2_bias, with_cp=with_cp))
        init_internimage_weights(self)

    def run_levels(self, x, level_inputs=None):
        """NHWC output of every level (before its downsample) for the NHWC stem output ``x``;
        ``level_inputs[i]``, when given, is added to the input of level i."""
        outputs = []
        for i, level in enumerate(self.levels):
            if level_inputs is not None:
                x = x + level_inputs[i]
            output, x = level(x)
            outputs.append(output)
        return outputs

    def forward_levels(self, x):
        """NHWC output of every level (before its downsample) for an NCHW image batch."""
        check_image_batch(x, self.in_channels, type(self).__name__)
        return self.run_levels(self.patch_embed(x))

    # Which weights of a classification checkpoint init_cfg loads: the model's (InternImage),
    # or its EMA when it has one ('prefer': the published FlashInternImage backbone).
    pretrained_use_ema = False

    def init_weights(self):
        checkpoint = pretrained_checkpoint(self.init_cfg)
        if checkpoint is None:
            super().init_weights()
        else:
            load_checkpoint(self, checkpoint, use_ema=self.pretrained_use_ema)
            self._is_init = True


class DenseOutputs:
    """What a dense-prediction backbone declares and does for its necks (as detectron2's
    backbones do): ``out_indices`` checked against the levels, ``out_channels`` and
    ``out_strides`` of the returned maps, NCHW outputs, ``frozen_stages`` (k >= 0 freezes the
    stem and levels 0..k-1; the published code left the stem trainable) and ``norm_eval``
    (BatchNorm layers stay in eval mode while training). A class using it provides
    ``frozen_modules(k)``."""

    def setup_outputs(self, level_channels, out_indices, frozen_stages, norm_eval):
        num_levels = len(level_channels)
        if not out_indices or any(not 0 <= i < num_levels for i in out_indices):
            raise ValueError(f'out_indices {list(out_indices)} must be level indices in '
                             f'[0, {num_levels})')
        if frozen_stages > num_levels:
            raise ValueError(f'frozen_stages ({frozen_stages}) exceeds the {num_levels} levels')
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.out_channels = tuple(level_channels[i] for i in self.out_indices)
        self.out_strides = tuple(STEM_STRIDE * 2 ** i for i in self.out_indices)
        for module in self._frozen():
            module.requires_grad_(False)
        self.train()

    def _frozen(self):
        return [] if self.frozen_stages < 0 else self.frozen_modules(self.frozen_stages)

    def train(self, mode=True):
        super().train(mode)
        for module in self._frozen():
            module.eval()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def select_outputs(self, level_outputs):
        """The NCHW maps of ``out_indices`` from NHWC level outputs."""
        return tuple(level_outputs[i].permute(0, 3, 1, 2).contiguous() for i in self.out_indices)


@MODELS.register_module()
class InternImage(DenseOutputs, InternImageTrunk):
    """The backbone for detection and segmentation: a tuple of NCHW feature maps of the levels
    in ``out_indices`` (see ``DenseOutputs``). ``arch`` names the variant; the other options
    are those of ``InternImageTrunk`` and override the variant's."""

    # The family whose arch keys ``arch`` aliases, and the defaults under its variants' options.
    variant_prefix = MODEL_PREFIX
    family_defaults = {}

    def __init__(self, arch=None, out_indices=(0, 1, 2, 3), frozen_stages=-1, norm_eval=False,
                 **trunk_options):
        super().__init__(**{**self.family_defaults,
                            **with_arch(arch, trunk_options, False, self.variant_prefix)})
        self.arch = arch
        self.setup_outputs(self.level_channels, out_indices, frozen_stages, norm_eval)

    def frozen_modules(self, frozen_stages):
        return [self.patch_embed, *self.levels[:frozen_stages]]

    def forward(self, x):
        return self.select_outputs(self.forward_levels(x))


@MODELS.register_module()
class InternImageClassifier(InternImageTrunk):
    """InternImage with its published classification head: the conv head (T..XL) or, with
    ``use_clip_projector``, the attention-pooling head on levels 2 and 3 (H/G).
    ``num_classes=0`` leaves the final Linear out (pooled features). ``arch`` names the variant;
    the other options are those of ``InternImageTrunk`` and override the variant's."""

    variant_prefix = MODEL_PREFIX
    family_defaults = {}

    def __init__(self, arch=None, **options):
        options = {**self.family_defaults, **with_arch(arch, options, True, self.variant_prefix)}
        num_classes = options.pop('num_classes', 1000)
        use_clip_projector = options.pop('use_clip_projector', False)
        super().__init__(**options)
        self.arch = arch
        self.use_clip_projector = use_clip_projector
        if use_clip_projector:
            if len(self.levels) < 2:
                raise ValueError('use_clip_projector needs at least two levels')
            self.dcnv3_head_x4, self.dcnv3_head_x3 = build_clip_token_convs(self.num_features)
            self.clip_projector = AttentionPooling()
            self.fc_norm = build_norm_layer(CLIP_EMBED_DIM, 'LN')
            head_parts = [self.clip_projector]
            self.pooled_features = CLIP_EMBED_DIM
        else:
            self.conv_head = build_conv_head(self.num_features, self.act_layer)
            head_parts = []
            self.pooled_features = int(self.num_features * CONV_HEAD_SCALE)
        self.head = nn.Linear(self.pooled_features, num_classes) if num_classes > 0 \
            else nn.Identity()
        for part in head_parts + [self.head]:
            init_internimage_weights(part)

    def unpooled_features(self, levels):
        """The NCHW map the head pools, from the levels' outputs: the last level (conv head), or
        the stride-16 token map of levels 3 and 2 (attention-pooling head)."""
        if self.use_clip_projector:
            return (self.dcnv3_head_x4(channels_first_view(levels[-1]))
                    + self.dcnv3_head_x3(channels_first_view(levels[-2])))
        return channels_first_view(levels[-1])

    def pool_features(self, x, pool=True):
        """The head before the final Linear on an ``unpooled_features`` map: (N, pooled_features)
        or, with ``pool=False``, the map before pooling (the conv head's output)."""
        if self.use_clip_projector:
            return self.fc_norm(self.clip_projector(x.flatten(2).transpose(1, 2))) if pool else x
        x = self.conv_head(x)
        return x.mean((2, 3)) if pool else x

    def forward_features(self, x):
        """Pooled (N, pooled_features) features: the input of the final Linear."""
        return self.pool_features(self.unpooled_features(self.forward_levels(x)))

    def forward(self, x):
        return self.head(self.forward_features(x))


# FlashInternImage (OpenGVLab/DCNv4): the same trunk and heads on DCNv4 blocks; without ``arch``
# the published FlashInternImage class's defaults (variants.FLASH_DEFAULTS).


@MODELS.register_module()
class FlashInternImage(InternImage):
    """The FlashInternImage backbone for detection and segmentation (``arch``: 't', 's', 'b',
    'l' or a ``flash_internimage_*`` variant name); options as ``InternImage``'s. As published,
    an init_cfg checkpoint with an EMA (``model_ema``) gives the EMA weights."""

    variant_prefix = FLASH_PREFIX
    family_defaults = FLASH_DEFAULTS
    pretrained_use_ema = 'prefer'


@MODELS.register_module()
class FlashInternImageClassifier(InternImageClassifier):
    """FlashInternImage with its published classification head (the conv head)."""

    variant_prefix = FLASH_PREFIX
    family_defaults = FLASH_DEFAULTS
