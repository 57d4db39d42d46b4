"""The parameter groups of the published classification training (its classification/
optimizer.py with the model's ``lr_decay_keywords``) as an mmengine optimizer-wrapper
constructor: ``ClassificationLayerDecayConstructor``.

It is not the rule of the detection/segmentation constructor (internimage.engine.layer_decay);
the published classification code assigns the lr by name keywords:

- weight decay: none for 1-D parameters and names ending in ``.bias`` (the published model
  declares no other exceptions); the others get the optimizer's weight decay.
- ``lr_layer_decay=False`` (the released models, whose yamls are the published
  ``configs/without_lr_decay``): every parameter at the base lr; ``dcn_lr_mul`` is then ignored,
  as the published code applies it only inside its layer-decay branch.
- ``lr_layer_decay=True``: counting the blocks from the last one (index 0) to the first of the
  first level, block i gets ``ratio ** i``; the stem goes with the first block, a level's
  downsample and norm with the first block of the next level. A name takes the ratio of the
  first keyword (``levels.<l>.blocks.<b>.``, ``patch_embed``, ``levels.<l>.downsample``,
  ``levels.<l>.norm``, in that order) it contains; a name containing none (the heads, the last
  level's norm, and the level-2 post norms of H/G, whose names match no keyword) gets the base
  lr. So the last block trains at the head's lr and the stem at the first block's.
- with ``dcn_lr_mul`` (and layer decay), names containing ``offset``, ``attention_weights``,
  ``center_feature_scale_proj`` or ``alpha_beta`` get that multiple of their lr: of the DCNv3
  parameters, the offset projection and the centre-feature-scale projection, not the mask.

Every group records ``lr_scale`` (its lr over the base lr), which ``TimmCosineLR`` reads, and
``param_names``. Under FSDP (parameters flattened to 1-D when the optimizer is built) the
number of dimensions of each parameter is read from the record the strategy takes before
sharding (``internimage.engine.layer_decay.parameter_ndims``), so the weight-decay rule still
sees the original shapes.
"""
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

from internimage.engine.layer_decay import (find_trunks, parameter_ndims, trunk_depths,
                                            unwrapped_name)

_OPTIONS = ('lr_layer_decay', 'lr_layer_decay_ratio', 'dcn_lr_mul')
DEFAULT_LAYER_DECAY_RATIO = 0.875  # published config.py: TRAIN.LR_LAYER_DECAY_RATIO
DCN_LR_KEYWORDS = ('offset', 'attention_weights', 'center_feature_scale_proj', 'alpha_beta')


def lr_ratio_keywords(depths, ratio):
    """{keyword: lr ratio} in the published order (first match wins)."""
    keywords = {}
    index = 0
    for level in reversed(range(len(depths))):
        for block in reversed(range(depths[level])):
            keywords[f'levels.{level}.blocks.{block}.'] = ratio ** index
            index += 1
    keywords['patch_embed'] = keywords['levels.0.blocks.0.']
    for level in range(len(depths) - 1):
        first_of_next = keywords[f'levels.{level + 1}.blocks.0.']
        keywords[f'levels.{level}.downsample'] = first_of_next
        keywords[f'levels.{level}.norm'] = first_of_next
    return keywords


def keyword_ratio(name, keywords):
    """The ratio of the first keyword contained in ``name``; 1.0 when none is."""
    return next((value for key, value in keywords.items() if key in name), 1.0)


def takes_dcn_lr_mul(name):
    return any(keyword in name for keyword in DCN_LR_KEYWORDS)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ClassificationLayerDecayConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(lr_layer_decay=False, lr_layer_decay_ratio=0.875,
    dcn_lr_mul=None)``: the published TRAIN.LR_LAYER_DECAY, TRAIN.LR_LAYER_DECAY_RATIO and
    TRAIN.OPTIMIZER.DCN_LR_MUL. Unknown keys are refused."""

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - set(_OPTIONS))
        if unknown:
            raise KeyError(f'ClassificationLayerDecayConstructor: unknown paramwise_cfg key(s) '
                           f'{unknown} (valid: {list(_OPTIONS)})')
        self.lr_layer_decay = bool(paramwise_cfg.get('lr_layer_decay', False))
        self.lr_layer_decay_ratio = float(paramwise_cfg.get('lr_layer_decay_ratio',
                                                            DEFAULT_LAYER_DECAY_RATIO))
        dcn_lr_mul = paramwise_cfg.get('dcn_lr_mul')
        self.dcn_lr_mul = None if dcn_lr_mul is None else float(dcn_lr_mul)
        if not 0 < self.lr_layer_decay_ratio <= 1:
            raise ValueError(f'lr_layer_decay_ratio must be in (0, 1], got '
                             f'{self.lr_layer_decay_ratio}')
        if self.dcn_lr_mul is not None and self.dcn_lr_mul <= 0:
            raise ValueError(f'dcn_lr_mul must be positive, got {self.dcn_lr_mul}')
        super().__init__(optim_wrapper_cfg, None)
        # non-empty, so that the base class's __call__ always goes through add_params
        self.paramwise_cfg = dict(lr_layer_decay=self.lr_layer_decay,
                                  lr_layer_decay_ratio=self.lr_layer_decay_ratio,
                                  dcn_lr_mul=self.dcn_lr_mul)

    def lr_scale(self, name, keywords):
        """The multiple of the base lr that parameter ``name`` trains at."""
        if not self.lr_layer_decay:
            return 1.0
        scale = keyword_ratio(name, keywords)
        if self.dcn_lr_mul is not None and takes_dcn_lr_mul(name):
            scale *= self.dcn_lr_mul
        return scale

    def add_params(self, params, module, **kwargs):
        _, trunk = find_trunks(module)[0]
        keywords = lr_ratio_keywords(trunk_depths(trunk), self.lr_layer_decay_ratio)
        ndims = parameter_ndims(module)
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            ndim = ndims[unwrapped_name(name)]
            no_decay = ndim == 1 or name.endswith('.bias')
            scale = self.lr_scale(name, keywords)
            key = (scale, no_decay)
            if key not in groups:
                groups[key] = dict(params=[], param_names=[], lr_scale=scale,
                                   lr=self.base_lr * scale)
                if no_decay or self.base_wd is not None:  # else the optimizer's default
                    groups[key]['weight_decay'] = 0.0 if no_decay else self.base_wd
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        params.extend(groups[key] for key in sorted(groups, reverse=True))
        print_log(f'classification parameter groups: layer decay '
                  f'{self.lr_layer_decay_ratio if self.lr_layer_decay else "off"}, DCN lr '
                  f'multiplier {self.dcn_lr_mul if self.lr_layer_decay else "unused"}, '
                  f'{len(groups)} groups', logger='current')
