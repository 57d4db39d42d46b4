"""Layer-wise learning-rate decay for InternImage (docs/architecture.md, "Layer-wise lr
decay"), one optimizer-wrapper constructor shared by classification, detection and segmentation
configs.

Layer ids: 0 for the stem, ``1 + sum(depths[:s]) + b`` for block b of level s (a level-2 post norm
goes with the block it follows), a level's norm and downsample with the first block of the next
level, everything else (heads, necks, decoders) is the last layer ``sum(depths) + 1``. The lr of
layer i is scaled by ``rate ** (num_layers - i - 1)``; 1-D parameters and biases get no weight
decay. ``offset_lr_scale`` multiplies the lr of the DCNv3 offset and mask projections
(``dcn.offset.*``, ``dcn.mask.*``), which the published constructor meant to do but never
matched."""
import re

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

from ..models.internimage import InternImageTrunk

_OPTIONS = ('layer_decay_rate', 'offset_lr_scale')
_LEVEL_PART = re.compile(r'levels\.(\d+)\.(blocks|post_norms|norm|downsample)(?:\.(\d+))?\.')
_OFFSET_OR_MASK = re.compile(r'(^|\.)dcn\.(offset|mask)\.')


def find_trunks(model):
    """(prefix, trunk) of every outermost InternImage trunk in ``model`` (a composite backbone
    holds several); the prefix ends with a dot unless the model is the trunk itself."""
    trunks = []
    for name, module in model.named_modules():
        if isinstance(module, InternImageTrunk) and \
                not any(name.startswith(prefix) for prefix, _ in trunks):
            trunks.append((f'{name}.' if name else '', module))
    if not trunks:
        raise ValueError(f'{type(model).__name__} holds no InternImage backbone: layer-wise lr '
                         'decay needs one')
    return trunks


def trunk_depths(trunk):
    return [len(level.blocks) for level in trunk.levels]


def layer_id_in_trunk(name, depths):
    """Layer id of parameter ``name`` (relative to its trunk)."""
    last = sum(depths) + 1
    if name.startswith('patch_embed.'):
        return 0
    match = _LEVEL_PART.match(name)
    if match is None:
        return last
    level, part, index = int(match.group(1)), match.group(2), match.group(3)
    if part == 'blocks':
        return 1 + sum(depths[:level]) + int(index)
    if part == 'post_norms':
        return None  # resolved by the caller, which knows the block each post norm follows
    return min(1 + sum(depths[:level + 1]), last)


def parameter_layer_ids(model):
    """{parameter name: layer id} and the number of layers for ``model``."""
    trunks = find_trunks(model)
    num_layers = max(sum(trunk_depths(trunk)) for _, trunk in trunks) + 2
    ids = {}
    for name, _ in model.named_parameters():
        owner = next(((prefix, trunk) for prefix, trunk in trunks if name.startswith(prefix)),
                     None)
        if owner is None:
            ids[name] = num_layers - 1
            continue
        prefix, trunk = owner
        relative = name[len(prefix):]
        depths = trunk_depths(trunk)
        layer_id = layer_id_in_trunk(relative, depths)
        if layer_id is None:
            level = int(relative.split('.')[1])
            norm_index = int(relative.split('.')[3])
            block = {k: b for b, k in trunk.levels[level].post_norm_positions.items()}[norm_index]
            layer_id = 1 + sum(depths[:level]) + block
        ids[name] = layer_id
    return ids, num_layers


def is_no_decay(name, param):
    return param.ndim == 1 or name.endswith('.bias')


def is_offset_or_mask(name):
    return _OFFSET_OR_MASK.search(name) is not None


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class InternImageLayerDecayConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(layer_decay_rate=0.9, offset_lr_scale=1.0)``; ``num_layers`` comes
    from the model's InternImage backbone. Unknown keys are refused, not ignored."""

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - set(_OPTIONS))
        if unknown:
            raise KeyError(f'InternImageLayerDecayConstructor: unknown paramwise_cfg key(s) '
                           f'{unknown} (valid: {list(_OPTIONS)})')
        self.layer_decay_rate = float(paramwise_cfg.get('layer_decay_rate', 1.0))
        self.offset_lr_scale = float(paramwise_cfg.get('offset_lr_scale', 1.0))
        if not 0 < self.layer_decay_rate <= 1:
            raise ValueError(f'layer_decay_rate must be in (0, 1], got {self.layer_decay_rate}')
        if self.offset_lr_scale <= 0:
            raise ValueError(f'offset_lr_scale must be positive, got {self.offset_lr_scale}')
        # The base class only sees an empty paramwise_cfg: every rule lives in add_params.
        super().__init__(optim_wrapper_cfg, None)
        # non-empty, so that the base class's __call__ always goes through add_params
        self.paramwise_cfg = dict(layer_decay_rate=self.layer_decay_rate,
                                  offset_lr_scale=self.offset_lr_scale)

    def add_params(self, params, module, **kwargs):
        layer_ids, num_layers = parameter_layer_ids(module)
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            layer_id = layer_ids[name]
            no_decay = is_no_decay(name, param)
            offset = is_offset_or_mask(name)
            key = (layer_id, no_decay, offset)
            if key not in groups:
                lr_scale = self.layer_decay_rate ** (num_layers - layer_id - 1)
                if offset:
                    lr_scale *= self.offset_lr_scale
                groups[key] = dict(params=[], param_names=[], layer_id=layer_id,
                                   lr_scale=lr_scale, lr=self.base_lr * lr_scale)
                if no_decay or self.base_wd is not None:  # else the optimizer's default
                    groups[key]['weight_decay'] = 0.0 if no_decay else self.base_wd
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        params.extend(groups[key] for key in sorted(groups))
        print_log(f'layer-wise lr decay: {num_layers} layers, rate {self.layer_decay_rate}, '
                  f'offset/mask lr scale {self.offset_lr_scale}, {len(groups)} parameter groups',
                  logger='current')
