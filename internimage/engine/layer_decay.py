"""Layer-wise learning-rate decay for InternImage (docs/architecture.md, "Layer-wise lr
decay"), one optimizer-wrapper constructor shared by classification, detection and segmentation
configs, with three rules chosen by ``paramwise_cfg['rule']``:

``'internimage'`` (the default; the demo configs, and any config that names no rule; the
classification recipes use ``classification.layer_decay`` instead): layer ids 0 for the stem,
``1 + sum(depths[:s]) + b`` for block b of level s (a level-2 post norm goes with the block it
follows), a level's norm and downsample with the first block of the next level, everything else
(heads, necks, decoders, the last level's norm) is the last layer ``sum(depths) + 1``; every
InternImage trunk of the model decays so (both trunks of a composite backbone). 1-D parameters
and biases get no weight decay. ``offset_lr_scale`` multiplies the lr of the DCNv3 offset and
mask projections (``dcn.offset.*``, ``dcn.mask.*``) and of the DCNv4 one (``dcn.offset_mask.*``).

``'published_detection'`` and ``'published_segmentation'``: what the published
``detection/`` and ``segmentation/mmcv_custom/custom_layer_decay_optimizer_constructor.py``
computed, quirks included (docs/tasks.md, "Layer-wise lr decay as published"), read over our
mmdet 3.3 / mmseg 1.2 parameter names (they keep the published names where it matters, except
the DETR level embedding: published ``bbox_head.transformer.level_embeds``, here
``level_embed``):

- layer 0: ``backbone.patch_embed.*``, the DETR level embedding; in segmentation also
  Mask2Former's ``decode_head.{mask_embed,cls_embed,level_embed,query_embed,query_feat}*`` and
  ``backbone.cb_modules.0.patch_embed.*``;
- ``backbone.levels.{s}.{part}.{k}.*``: a level's ``downsample`` and ``norm`` at
  ``1 + sum(depths[:s + 1])``, except level 3's norm at ``1 + sum(depths[:3])`` (level 3's first
  block); any other part (blocks and level-2 post norms alike) at ``1 + sum(depths[:s]) + k``,
  so post norm k sits with block k, not with the block it follows;
- everything else at the last layer ``sum(depths) + 1``, the composite backbone's
  ``backbone.cb_modules.*`` included (the published rule does not know those names);
- no weight decay for 1-D parameters, biases and any name holding ``norm``,
  ``relative_position`` or ``sampling_offsets``;
- ``offset_lr_scale`` multiplies the lr of names holding ``sampling_offsets`` or
  ``reference_points``: the DETR head's deformable attention in detection; in segmentation only
  inside ``backbone`` (where InternImage has no such names: no effect). It never reaches the
  DCNv3 offset/mask projections; it does reach FlashInternImage's DCNv4 projection
  ``offset_mask`` (not ``offset_mask_dw``), by the rule the DCNv4 release added to both
  constructors.

Corrections of the published rules, each a named option, off unless set:
``dcn_offset_lr_scale`` (the lr multiplier the published ``offset_lr_scale`` meant for the
DCNv3 ``dcn.offset``/``dcn.mask`` projections of every trunk) and ``decay_cb_modules`` (each
trunk of a composite backbone decays as a single backbone would, under the same rule).
"""
import re

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch.distributed.fsdp import FullyShardedDataParallel

from ..models.internimage import InternImageTrunk

RULES = ('internimage', 'published_detection', 'published_segmentation')
_COMMON = ('rule', 'layer_decay_rate', 'offset_lr_scale')
_CORRECTIONS = ('dcn_offset_lr_scale', 'decay_cb_modules')
OPTIONS = {'internimage': _COMMON,
           'published_detection': _COMMON + _CORRECTIONS,
           'published_segmentation': _COMMON + _CORRECTIONS}

_LEVEL_PART = re.compile(r'levels\.(\d+)\.(blocks|post_norms|norm|downsample)(?:\.(\d+))?\.')
_OFFSET_OR_MASK = re.compile(r'(^|\.)dcn\.(offset|mask|offset_mask)\.')
# Segments that wrappers (FSDP with use_orig_params, activation checkpointing) insert into the
# parameter names; the rules read the names without them.
_WRAPPER_SEGMENTS = ('_fsdp_wrapped_module', '_checkpoint_wrapped_module')
# Mask2Former's embeddings that the published segmentation rule puts at layer 0
_MASK2FORMER_EMBEDDINGS = tuple(f'decode_head.{name}' for name in (
    'mask_embed', 'cls_embed', 'level_embed', 'query_embed', 'query_feat'))


def canonical_name(name):
    """``name`` without the segments that module wrappers insert."""
    return '.'.join(part for part in name.split('.') if part not in _WRAPPER_SEGMENTS)


def unwrapped_name(name):
    """``name`` without what FSDP, activation checkpointing and a leading DDP ``module.``
    insert into it."""
    return canonical_name(name).removeprefix('module.')


def record_parameter_ndims(model):
    """Records on ``model`` (``model.parameter_ndims``) the number of dimensions of each of its
    parameters as built: FSDP (use_orig_params) hands the optimizer constructor 1-D views, and
    the weight-decay rules (1-D parameters take none) read this record instead."""
    model.parameter_ndims = {unwrapped_name(name): param.ndim
                             for name, param in model.named_parameters()}


def parameter_ndims(model):
    """{unwrapped parameter name: number of dimensions} of ``model`` as built: the record of
    ``record_parameter_ndims`` when a module of ``model`` has one, else the parameters' own.
    Refuses an FSDP-wrapped model without a record: its weight-decay groups would be silently
    wrong (every parameter 1-D)."""
    for module in model.modules():
        ndims = getattr(module, 'parameter_ndims', None)
        if isinstance(ndims, dict):
            return ndims
    if any(isinstance(module, FullyShardedDataParallel) for module in model.modules()):
        raise ValueError('the model was sharded by FSDP before its shapes were recorded: use '
                         "strategy type 'InternImageFSDPStrategy' (configs/_base_/sharding/"
                         'fsdp.py) or call record_parameter_ndims(model) before wrapping it')
    return {unwrapped_name(name): param.ndim for name, param in model.named_parameters()}


def find_trunks(model):
    """(prefix, trunk) of every outermost InternImage trunk in ``model`` (a composite backbone
    holds several); the prefix ends with a dot unless the model is the trunk itself."""
    trunks = []
    for name, module in model.named_modules():
        name = canonical_name(name)
        if isinstance(module, InternImageTrunk) and \
                not any(name.startswith(prefix) for prefix, _ in trunks):
            trunks.append((f'{name}.' if name else '', module))
    if not trunks:
        raise ValueError(f'{type(model).__name__} holds no InternImage backbone: layer-wise lr '
                         'decay needs one')
    return trunks


def trunk_depths(trunk):
    return [len(level.blocks) for level in trunk.levels]


def _owner(name, trunks):
    return next(((prefix, trunk) for prefix, trunk in trunks if name.startswith(prefix)),
                (None, None))


# The project's rule ('internimage') -------------------------------------------------------------

def layer_id_in_trunk(name, depths):
    """Layer id of parameter ``name`` (relative to its trunk) under the project's rule."""
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
    """{parameter name: layer id} and the number of layers for ``model`` under the project's
    rule (names without wrapper segments)."""
    trunks = find_trunks(model)
    num_layers = max(sum(trunk_depths(trunk)) for _, trunk in trunks) + 2
    ids = {}
    for name, _ in model.named_parameters():
        name = canonical_name(name)
        prefix, trunk = _owner(name, trunks)
        if trunk is None:
            ids[name] = num_layers - 1
            continue
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


def is_no_decay(name, ndim):
    return ndim == 1 or name.endswith('.bias')


def is_offset_or_mask(name):
    return _OFFSET_OR_MASK.search(name) is not None


# The published rules ----------------------------------------------------------------------------

def _is_detr_level_embedding(name):
    # published: 'level_embeds' anywhere in the name (mmdet 2.x Deformable DETR / DINO
    # transformers); mmdet 3.3 names that parameter `level_embed`, at the detector's top level
    return 'level_embeds' in name or name.rsplit('.', 1)[-1] == 'level_embed'


def published_layer_id(name, task, depths):
    """Layer id of the detector's / segmentor's parameter ``name`` under the published rule of
    ``task`` ('detection' or 'segmentation'); ``depths`` of the backbone."""
    last = sum(depths) + 1
    if name.startswith('backbone.patch_embed'):
        return 0
    if task == 'segmentation' and (name.startswith(_MASK2FORMER_EMBEDDINGS)
                                   or name.startswith('backbone.cb_modules.0.patch_embed')):
        return 0
    if _is_detr_level_embedding(name):
        return 0
    if name.startswith('backbone.levels'):
        parts = name.split('.')
        level = int(parts[2])
        if parts[3] in ('downsample', 'norm'):
            return 1 + sum(depths[:min(level, 2) + 1])
        return 1 + sum(depths[:level]) + int(parts[4])
    return last


def published_no_decay(name, ndim):
    return ndim == 1 or name.endswith('.bias') or any(
        key in name for key in ('relative_position', 'norm', 'sampling_offsets'))


def published_offset_scaled(name, task):
    """Whether the published ``offset_lr_scale`` multiplies the lr of ``name``: the DETR heads'
    deformable attention (in segmentation only inside the backbone), and FlashInternImage's
    DCNv4 offset/mask projection ``offset_mask`` (not its depthwise conv ``offset_mask_dw``),
    which the DCNv4 release's constructors add (InternImage has no such name)."""
    deformable = 'sampling_offsets' in name or 'reference_points' in name
    dcnv4 = 'offset_mask' in name and 'offset_mask_dw' not in name
    return (deformable and (task == 'detection' or 'backbone' in name)) or dcnv4


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class InternImageLayerDecayConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(rule='internimage', layer_decay_rate=0.9, offset_lr_scale=1.0)``;
    the published rules also take ``dcn_offset_lr_scale`` (float) and ``decay_cb_modules``
    (bool). ``num_layers`` and ``depths`` come from the model's InternImage backbone. Unknown
    keys are refused, not ignored."""

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        paramwise_cfg = dict(paramwise_cfg or {})
        self.rule = paramwise_cfg.get('rule', 'internimage')
        if self.rule not in RULES:
            raise ValueError(f'InternImageLayerDecayConstructor: unknown rule {self.rule!r} '
                             f'(valid: {list(RULES)})')
        unknown = sorted(set(paramwise_cfg) - set(OPTIONS[self.rule]))
        if unknown:
            raise KeyError(f'InternImageLayerDecayConstructor: unknown paramwise_cfg key(s) '
                           f'{unknown} for rule {self.rule!r} (valid: {list(OPTIONS[self.rule])})')
        self.layer_decay_rate = float(paramwise_cfg.get('layer_decay_rate', 1.0))
        self.offset_lr_scale = float(paramwise_cfg.get('offset_lr_scale', 1.0))
        self.dcn_offset_lr_scale = float(paramwise_cfg.get('dcn_offset_lr_scale', 1.0))
        self.decay_cb_modules = paramwise_cfg.get('decay_cb_modules', False)
        if not 0 < self.layer_decay_rate <= 1:
            raise ValueError(f'layer_decay_rate must be in (0, 1], got {self.layer_decay_rate}')
        for key in ('offset_lr_scale', 'dcn_offset_lr_scale'):
            if getattr(self, key) <= 0:
                raise ValueError(f'{key} must be positive, got {getattr(self, key)}')
        if not isinstance(self.decay_cb_modules, bool):
            raise ValueError(f'decay_cb_modules must be True or False, got '
                             f'{self.decay_cb_modules!r}')
        # The base class only sees an empty paramwise_cfg: every rule lives in add_params.
        super().__init__(optim_wrapper_cfg, None)
        # non-empty, so that the base class's __call__ always goes through add_params
        self.paramwise_cfg = {key: getattr(self, key) for key in OPTIONS[self.rule]}

    def parameter_rules(self, module):
        """{canonical parameter name: (layer id, no weight decay, whether an lr scale applies,
        lr factor)} and the number of layers, for the trainable parameters of ``module`` under
        this constructor's rule. The parameters a scale applies to form groups of their own even
        at scale 1, so that the groups (and the order in which clipping sums their norms) do not
        depend on its value."""
        ndims = parameter_ndims(module)
        named = [(canonical_name(name), ndims[unwrapped_name(name)])
                 for name, param in module.named_parameters() if param.requires_grad]
        if self.rule == 'internimage':
            layer_ids, num_layers = parameter_layer_ids(module)
            return {name: (layer_ids[name], is_no_decay(name, ndim), is_offset_or_mask(name),
                           self.offset_lr_scale if is_offset_or_mask(name) else 1.0)
                    for name, ndim in named}, num_layers
        task = self.rule[len('published_'):]
        trunks = find_trunks(module)
        if not all(prefix.startswith('backbone.') for prefix, _ in trunks):
            raise ValueError(f'rule {self.rule!r} reads mmdet/mmseg parameter names: the '
                             f'InternImage backbone must be the model\'s `backbone`, found '
                             f'{[prefix for prefix, _ in trunks]}')
        depths = trunk_depths(trunks[0][1])
        num_layers = sum(depths) + 2
        rules = {}
        for name, ndim in named:
            prefix, trunk = _owner(name, trunks)
            in_cb_module = trunk is not None and prefix != 'backbone.'
            if in_cb_module and self.decay_cb_modules:
                layer_id = published_layer_id('backbone.' + name[len(prefix):], task,
                                              trunk_depths(trunk))
            else:
                layer_id = published_layer_id(name, task, depths)
            offset_scaled = published_offset_scaled(name, task)
            # (FlashInternImage's offset_mask is scaled by the published rule already)
            dcn_scaled = (trunk is not None and is_offset_or_mask(name[len(prefix):])
                          and not offset_scaled)
            factor = (self.offset_lr_scale if offset_scaled else 1.0) * \
                (self.dcn_offset_lr_scale if dcn_scaled else 1.0)
            rules[name] = (layer_id, published_no_decay(name, ndim), offset_scaled or dcn_scaled,
                           factor)
        return rules, num_layers

    def add_params(self, params, module, **kwargs):
        rules, num_layers = self.parameter_rules(module)
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            name = canonical_name(name)
            key = rules[name]
            layer_id, no_decay, _, factor = key
            if key not in groups:
                lr_scale = self.layer_decay_rate ** (num_layers - layer_id - 1) * factor
                groups[key] = dict(params=[], param_names=[], layer_id=layer_id,
                                   lr_scale=lr_scale, lr=self.base_lr * lr_scale)
                if no_decay or self.base_wd is not None:  # else the optimizer's default
                    groups[key]['weight_decay'] = 0.0 if no_decay else self.base_wd
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        params.extend(groups[key] for key in sorted(groups))
        print_log(f'layer-wise lr decay ({self.rule} rule): {num_layers} layers, rate '
                  f'{self.layer_decay_rate}, {len(groups)} parameter groups; options '
                  f'{self.paramwise_cfg}', logger='current')
