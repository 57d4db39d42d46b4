"""The optimizer of every detection and segmentation recipe is the published one: for the 11
released models of ../shared/published/optim, every parameter's lr and weight decay (as
multiples of the config's base values) equal what the published constructor computed, parameter
by parameter; for every recipe config, the optimizer settings equal those of the published
config of the same name (docs/tasks.md, "Layer-wise lr decay as published").

The published multipliers are keyed by the released checkpoints' names; the converter's plan
(the task's released layout, the published key list as a fake shapes dict) maps each to our
parameter. The optimizer is built by mmengine's ``build_optim_wrapper`` over the full-size
model on the meta device (it needs no parameter data).

What exists on one side only, and why:
- released entries without a multiplier: the BatchNorm statistics (``running_mean``,
  ``running_var``, ``num_batches_tracked``) of the Cascade/UperNet/SegFormer heads; buffers, not
  trained, and buffers of our model too (checked below);
- trainable parameters of ours without a published counterpart, or the reverse: none (checked).
"""
import ast
import copy
import functools
import math
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, MODELS

from internimage.engine import task_of
from internimage.engine.layer_decay import (InternImageLayerDecayConstructor, canonical_name,
                                            find_trunks, trunk_depths)
from internimage.models.conversion import plan_conversion, shapes_of
from internimage.models.variants import ARCHS, variant_name
from published_data import CONFIG_OF, needs_published, read_key_list

ROOT = Path(__file__).resolve().parents[1]
REL_TOL = 1e-6
BUFFER_SUFFIXES = ('.running_mean', '.running_var', '.num_batches_tracked')
CORRECTIONS = ('dcn_offset_lr_scale', 'decay_cb_modules')
ADAMW_BETAS = (0.9, 0.999)  # torch's default, which the published detection configs kept


@functools.lru_cache(maxsize=None)
def _parsed(config):
    return Config.fromfile(ROOT / 'configs' / f'{config}.py')


def load(config):
    """Our config ``config`` (relative to configs/, without .py), parsed once per session."""
    return copy.deepcopy(_parsed(config))


def read_multipliers(published_name):
    """(task of the published constructor, its optimizer cfg, its paramwise_cfg,
    {released name: (lr multiplier, weight-decay multiplier)})."""
    lines = needs_published(f'optim/{published_name}.tsv').read_text().splitlines()
    task = re.search(r'published (detection|segmentation)/mmcv_custom/', lines[0]).group(1)
    header = re.fullmatch(r'# optimizer (\{.*\}) paramwise_cfg (\{.*\})', lines[1])
    optimizer, paramwise = (ast.literal_eval(text) for text in header.groups())
    multipliers = {}
    for line in lines:
        if line.strip() and not line.startswith('#'):
            name, lr, decay = line.split('\t')
            multipliers[name] = (float(lr), float(decay))
    return task, optimizer, paramwise, multipliers


def build(cfg):
    with DefaultScope.overwrite_default_scope(cfg.default_scope), torch.device('meta'):
        model = MODELS.build(cfg.model)
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, wrapper.optimizer


def our_multipliers(model, optimizer, base_lr, base_decay):
    """{our parameter name: (lr / base lr, weight decay / base weight decay)}; each parameter
    in exactly one group."""
    names = {id(param): name for name, param in model.named_parameters()}
    multipliers = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            name = names[id(param)]
            assert name not in multipliers, f'{name} is in two parameter groups'
            multipliers[name] = (group['lr'] / base_lr, group['weight_decay'] / base_decay)
    return multipliers


def close(a, b):
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0 if b else 1e-12)


def check_settings(cfg, model, task, optimizer, paramwise):
    """Our optimizer and paramwise_cfg are those of the published config header."""
    ours = cfg.optim_wrapper.optimizer
    assert (ours.type, ours.lr, ours.weight_decay) == \
        (optimizer['type'], optimizer['lr'], optimizer['weight_decay'])
    assert tuple(ours.get('betas', ADAMW_BETAS)) == tuple(optimizer.get('betas', ADAMW_BETAS))
    ours_paramwise = cfg.optim_wrapper.get('paramwise_cfg', {})
    if 'constructor' not in optimizer:  # mmcv's default constructor: custom keys only
        assert cfg.optim_wrapper.get('constructor') in (None, 'DefaultOptimWrapperConstructor')
        assert ours_paramwise == paramwise
        return
    assert cfg.optim_wrapper.constructor == 'InternImageLayerDecayConstructor'
    assert ours_paramwise.get('rule') == f'published_{task}'
    assert not set(CORRECTIONS) & set(ours_paramwise), 'a correction is on in a published recipe'
    assert ours_paramwise.layer_decay_rate == paramwise['layer_decay_rate']
    assert ours_paramwise.get('offset_lr_scale', 1.0) == paramwise.get('offset_lr_scale', 1.0)
    # the published constructor reads num_layers and depths from the config, ours from the model
    for _, trunk in find_trunks(model):
        assert trunk_depths(trunk) == list(paramwise['depths'])
        assert sum(trunk_depths(trunk)) == paramwise['num_layers']


@pytest.mark.parametrize('published_name', sorted(CONFIG_OF))
def test_every_parameter_trains_at_the_published_lr_and_weight_decay(published_name):
    task, optimizer, paramwise, published = read_multipliers(published_name)
    cfg = load(CONFIG_OF[published_name])
    model, built = build(cfg)
    ours = our_multipliers(model, built, cfg.optim_wrapper.optimizer.lr,
                           cfg.optim_wrapper.optimizer.weight_decay)

    released = read_key_list(published_name)
    layout = task_of(cfg).released_layout(cfg.model, list(released))
    plan = plan_conversion(layout, released, shapes_of(model.state_dict()))
    assert not plan.dropped
    target = dict(plan.placed)
    assert set(target) == set(released)

    untrained = set(released) - set(published)
    assert not set(published) - set(released)
    assert all(name.endswith(BUFFER_SUFFIXES) for name in untrained), sorted(untrained)
    buffers = dict(model.named_buffers())
    assert all(target[name] in buffers for name in untrained)
    mapped = {target[name]: name for name in published}
    assert not set(mapped) - set(ours), 'trained as published, not by us: ' + \
        str(sorted(set(mapped) - set(ours))[:10])
    assert not set(ours) - set(mapped), 'trained by us, not as published: ' + \
        str(sorted(set(ours) - set(mapped))[:10])

    differ = [f'{name} (ours {ours_name}): published lr x{published[name][0]:.10g}, wd '
              f'x{published[name][1]:g}; ours lr x{ours[ours_name][0]:.10g}, wd '
              f'x{ours[ours_name][1]:g}'
              for ours_name, name in mapped.items()
              if not (close(ours[ours_name][0], published[name][0])
                      and close(ours[ours_name][1], published[name][1]))]
    assert not differ, f'{len(differ)} of {len(published)} parameters differ:\n' + \
        '\n'.join(differ[:20])
    check_settings(cfg, model, task, optimizer, paramwise)


# The corrections, named options off in the recipes: each changes what it says and nothing else

def multipliers_with(config, **paramwise):
    cfg = load(config)
    cfg.optim_wrapper.paramwise_cfg.update(paramwise)
    model, built = build(cfg)
    return our_multipliers(model, built, cfg.optim_wrapper.optimizer.lr,
                           cfg.optim_wrapper.optimizer.weight_decay)


def test_dcn_offset_lr_scale_reaches_the_dcnv3_offset_and_mask_and_nothing_else():
    config = 'detection/coco/cascade_internimage_l_fpn_3x_coco'  # offset_lr_scale 0.01
    published = multipliers_with(config)
    corrected = multipliers_with(config, dcn_offset_lr_scale=0.01)
    offset_or_mask = re.compile(r'^backbone\.levels\.\d+\.blocks\.\d+\.dcn\.(offset|mask)\.')
    scaled = [name for name in corrected if offset_or_mask.match(name)]
    assert len(scaled) == 4 * 37  # offset and mask, weight and bias, of every block of L
    block = 'backbone.levels.0.blocks.0.dcn.'
    # the published offset_lr_scale reaches no parameter of a Cascade R-CNN
    assert published[block + 'offset.weight'] == published[block + 'input_proj.weight']
    for name, (lr, decay) in corrected.items():
        factor = 0.01 if name in scaled else 1.0
        assert close(lr, published[name][0] * factor) and decay == published[name][1], name


def test_decay_cb_modules_gives_each_trunk_the_layer_ids_of_a_single_backbone():
    cb = multipliers_with('detection/coco/dino_4scale_cbinternimage_h_o365_coco')
    corrected = multipliers_with('detection/coco/dino_4scale_cbinternimage_h_o365_coco',
                                 decay_cb_modules=True)
    single = multipliers_with('detection/coco/dino_4scale_internimage_h_o365_coco')
    for name, value in corrected.items():
        match = re.match(r'backbone\.cb_modules\.(\d)\.(.+)', name)
        if match is None:
            assert value == cb[name], name
        elif match.group(2).startswith(('patch_embed.', 'levels.')):
            assert cb[name] == (1.0, cb[name][1])  # published: the head's lr
            assert value == single['backbone.' + match.group(2)], name
        else:  # the lead trunk's composite scales: outside the published layer-id names
            assert re.fullmatch(r'gamma\d', match.group(2)) and value == cb[name], name
    assert corrected['backbone.cb_modules.0.patch_embed.conv1.weight'][0] == \
        pytest.approx(0.94 ** 51)


def test_the_rule_names_and_its_options_are_checked():
    optimizer = dict(optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05))
    with pytest.raises(ValueError, match="unknown rule 'published'"):
        InternImageLayerDecayConstructor(optimizer, dict(rule='published'))
    with pytest.raises(KeyError, match=r"\['decay_cb_modules'\] for rule 'internimage'"):
        InternImageLayerDecayConstructor(optimizer, dict(decay_cb_modules=True))
    with pytest.raises(ValueError, match='decay_cb_modules must be True or False'):
        InternImageLayerDecayConstructor(optimizer, dict(rule='published_detection',
                                                         decay_cb_modules=1))
    with pytest.raises(ValueError, match='dcn_offset_lr_scale must be positive'):
        InternImageLayerDecayConstructor(optimizer, dict(rule='published_segmentation',
                                                         dcn_offset_lr_scale=0))
    from internimage.models import create_classifier
    with torch.device('meta'):
        classifier = torch.nn.Module()
        classifier.classifier = create_classifier('internimage_test')
    with pytest.raises(ValueError, match='must be the model.s `backbone`'):
        build_optim_wrapper(classifier, dict(
            optimizer, constructor='InternImageLayerDecayConstructor',
            paramwise_cfg=dict(rule='published_detection')))


class Wrapped(torch.nn.Module):
    """What FSDP (use_orig_params) and checkpoint wrappers do to parameter names."""

    def __init__(self, module, attribute):
        super().__init__()
        setattr(self, attribute, module)


def test_wrapped_blocks_get_the_groups_of_the_plain_model():
    config = 'detection/coco/dino_4scale_internimage_t_1x_coco'
    plain = multipliers_with(config)
    cfg = load(config)
    with DefaultScope.overwrite_default_scope(cfg.default_scope), torch.device('meta'):
        model = MODELS.build(cfg.model)
        for level in model.backbone.levels:
            for i, block in enumerate(level.blocks):
                level.blocks[i] = Wrapped(Wrapped(block, '_checkpoint_wrapped_module'),
                                          '_fsdp_wrapped_module')
        optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    wrapped = our_multipliers(model, optimizer, cfg.optim_wrapper.optimizer.lr,
                              cfg.optim_wrapper.optimizer.weight_decay)
    assert any('_fsdp_wrapped_module._checkpoint_wrapped_module.' in name for name in wrapped)
    assert {canonical_name(name): value for name, value in wrapped.items()} == plain


# Every recipe config against the published config of the same name -----------------------------

# our config: (published config, lr, weight decay, layer decay rate, offset_lr_scale, gradient
# clipping max norm, backbone depths). Every published config's num_layers is sum(depths), and
# its depths are those of its backbone. The published optimizer is AdamW, betas (0.9, 0.999).
# The FSDP configs are their recipe's; the Cityscapes Mask2Former _ms config the ss one's.
DET, SEG = 'published_detection', 'published_segmentation'
T, S, L, XL = (4, 4, 18, 4), (4, 4, 21, 4), (5, 5, 22, 5), (5, 5, 24, 5)
H, G = (6, 6, 32, 6), (2, 2, 48, 4)
_CASCADE = 'detection/coco/cascade_internimage_'
_DINO = 'detection/coco/dino_4scale_'
_CB_O365 = 'dino_4scale_cbinternimage_h_objects365_'
_MRCNN = 'detection/coco/mask_rcnn_internimage_'
_ADE = 'segmentation/ade20k/'
_CITY = 'segmentation/cityscapes/'
_MAP = 'segmentation/mapillary/'
_M2F = 'mask2former_internimage_h_'
PUBLISHED_OPTIMIZERS = {
    _CASCADE + 'l_fpn_1x_coco': ('cascade_internimage_l_fpn_1x_coco', 1e-4, 0.05, 0.94, 1, None, L),
    _CASCADE + 'l_fpn_3x_coco': ('cascade_internimage_l_fpn_3x_coco', 2e-4, 0.05, 0.9, 0.01, None,
                                 L),
    _CASCADE + 'xl_fpn_1x_coco': ('cascade_internimage_xl_fpn_1x_coco', 1e-4, 0.05, 0.94, 1, None,
                                  XL),
    _CASCADE + 'xl_fpn_3x_coco': ('cascade_internimage_xl_fpn_3x_coco', 2e-4, 0.05, 0.9, 0.01,
                                  None, XL),
    'detection/crowd_human/cascade_internimage_xl_fpn_3x_crowd_human':
        ('cascade_internimage_xl_fpn_3x_crowd_human', 1e-4, 1e-4, 0.94, 1, None, XL),
    **{_MRCNN + f'{v}_fpn_{s}_coco': (f'mask_rcnn_internimage_{v}_fpn_{s}_coco', 1e-4, 0.05, 1.0,
                                      1, None, depths)
       for v, depths in (('t', T), ('s', S), ('b', S)) for s in ('1x', '3x')},
    **{_DINO + f'internimage_{v}_1x_coco': (f'dino_4scale_internimage_{v}_1x_coco_layer_wise_lr',
                                            1e-4, 1e-4, 0.9, 1, 0.1, depths)
       for v, depths in (('t', T), ('l', L))},
    **{_DINO + f'{v}_o365_coco{fsdp}': (f'dino_4scale_{v}_objects365_coco_ss', 1e-4, 1e-4, 0.94,
                                        1e-3, 0.1, depths)
       for v, depths in (('cbinternimage_h', H), ('internimage_h', H), ('internimage_g', G))
       for fsdp in ('', '_fsdp')},
    **{f'detection/{folder}/{_CB_O365}{name}': (f'{_CB_O365}{name}', lr, 1e-4, 0.94, 1e-3, 0.1, H)
       for folder, name, lr in (('lvis', 'lvis_minival_ss', 1e-4), ('lvis', 'lvis_val_ss', 1e-4),
                                ('openimages', 'openimages_ss', 1e-4), ('voc', 'voc07', 5e-5),
                                ('voc', 'voc12', 5e-5))},
    **{_ADE + f'upernet_internimage_{v}_{size}_160k_ade20k{fsdp}':
       (f'upernet_internimage_{v}_{size}_160k_ade20k', lr, 0.05, rate, 1, clip, depths)
       for v, size, lr, rate, clip, depths, fsdps in (
           ('t', 512, 6e-5, 1.0, None, T, ('',)), ('s', 512, 6e-5, 1.0, None, S, ('',)),
           ('b', 512, 6e-5, 1.0, None, S, ('',)), ('l', 640, 2e-5, 0.94, 0.1, L, ('',)),
           ('xl', 640, 2e-5, 0.94, 0.1, XL, ('',)), ('h', 896, 2e-5, 0.95, 0.1, H, ('', '_fsdp')),
           ('g', 896, 2e-5, 0.95, 0.1, G, ('', '_fsdp')))
       for fsdp in fsdps},
    **{_CITY + f'upernet_internimage_{v}_512x1024_160k_{data}':
       (f'upernet_internimage_{v}_512x1024_160k_{data}', lr, 0.05, rate, 1, clip, depths)
       for v, lr, rate, clip, depths, datas in (
           ('t', 6e-5, 1.0, None, T, ('cityscapes',)), ('s', 6e-5, 1.0, None, S, ('cityscapes',)),
           ('b', 6e-5, 1.0, None, S, ('cityscapes',)),
           ('l', 2e-5, 0.94, 0.1, L, ('cityscapes', 'mapillary2cityscapes')),
           ('xl', 2e-5, 0.94, 0.1, XL, ('cityscapes', 'mapillary2cityscapes')))
       for data in datas},
    **{_MAP + f'{head}_internimage_{v}_512x1024_80k_mapillary':
       (f'{head}_internimage_{v}_512x1024_80k_mapillary', 2e-5, 0.05, 0.94, 1, 0.1, depths)
       for head in ('upernet', 'segformer') for v, depths in (('l', L), ('xl', XL))},
    **{_CITY + f'segformer_internimage_{v}_512x1024_160k_mapillary2cityscapes':
       (f'segformer_internimage_{v}_512x1024_160k_mapillary2cityscapes', 2e-5, 0.05, 0.94, 1,
        0.1, depths)
       for v, depths in (('l', L), ('xl', XL))},
    _ADE + _M2F + '896_80k_cocostuff2ade20k': (_M2F + '896_80k_cocostuff2ade20k_ss', 1e-5, 0.05,
                                               0.95, 1, 0.1, H),
    _ADE + _M2F + '896_80k_cocostuff2ade20k_ms': (_M2F + '896_80k_cocostuff2ade20k_ms', 1e-5,
                                                  0.05, 0.95, 1, 0.1, H),
    **{_CITY + _M2F + f'1024x1024_80k_mapillary2cityscapes{ms}':
       (_M2F + '1024x1024_80k_mapillary2cityscapes', 1e-5, 0.05, 0.95, 1, 0.1, H)
       for ms in ('', '_ms')},
    'segmentation/mapillary/' + _M2F + '896x896_80k_mapillary':
        (_M2F + '896x896_80k_mapillary', 2e-5, 0.05, 0.95, 1, 0.1, H),
    'segmentation/coco_stuff164k/' + _M2F + '896_80k_cocostuff164k':
        (_M2F + '896_80k_cocostuff164k', 2e-5, 0.05, 0.95, 1, None, H),
    'segmentation/coco_stuff10k/' + _M2F + '512_40k_cocostuff164k_to_10k':
        (_M2F + '512_40k_cocostuff164k_to_10k', 1e-5, 0.05, 0.95, 1, None, H),
    'segmentation/nyu_depth_v2/' + _M2F + '480_40k_nyu': (_M2F + '480_40k_nyu', 2e-5, 0.05, 0.95,
                                                          1, None, H),
    'segmentation/pascal_context/' + _M2F + '480_40k_pascal_context_59':
        (_M2F + '480_40k_pascal_context_59', 2e-5, 0.05, 0.95, 1, None, H),
}
# checked parameter by parameter above (mmcv's default constructor, custom keys)
OTHER_CONSTRUCTOR = {'detection/coco/dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr',
                     'detection/coco/dino_4scale_flash_internimage_l_1x_coco'}
# FlashInternImage (OpenGVLab/DCNv4): FlashInternImage-S/B/L have InternImage-S/B/L's depths
PUBLISHED_OPTIMIZERS.update({
    **{_MRCNN.replace('internimage_', 'flash_internimage_') + f'{v}_fpn_{s}_coco': (
        f'mask_rcnn_flash_intern_image_{v}_fpn_{s}_coco', lr, 0.05, rate, offset, None, depths)
       for v, s, lr, rate, offset, depths in (
           ('t', '1x', 1e-4, 1.0, 1, T), ('t', '3x', 1e-4, 1.0, 1, T),
           ('s', '1x', 1e-4, 1.0, 1, S), ('s', '3x', 2e-4, 1.0, 1, S),
           ('b', '1x', 1e-4, 1.0, 1, S), ('b', '3x', 2e-4, 0.9, 0.01, S))},
    'detection/coco/cascade_flash_internimage_l_fpn_1x_coco': (
        'cascade_flash_intern_image_l_fpn_1x_coco', 1e-4, 0.05, 0.94, 1, None, L),
    'detection/coco/cascade_flash_internimage_l_fpn_3x_coco': (
        'cascade_flash_intern_image_l_fpn_3x_coco', 2e-4, 0.05, 0.9, 0.01, None, L),
    _MRCNN + 't_fpn_1x_coco_with_dcnv4': ('mask_rcnn_internimage_t_fpn_1x_coco_with_dcnv4', 1e-4,
                                          0.05, 1.0, 1, None, T),
    **{_DINO + f'flash_internimage_{v}_1x_coco': (f'dino_4scale_flash_internimage_{v}_1x_coco',
                                                  2e-4, 1e-4, 0.9, 1, 0.1, depths)
       for v, depths in (('t', T), ('s', S), ('b', S))},
    **{_ADE + f'upernet_flash_internimage_{v}_{size}_160k_ade20k': (
        f'upernet_flash_internimage_{v}_{size}_160k_ade20k', lr, 0.05, rate, 1, clip, depths)
       for v, size, lr, rate, clip, depths in (
           ('t', 512, 6e-5, 1.0, None, T), ('s', 512, 6e-5, 1.0, None, S),
           ('b', 512, 6e-5, 1.0, None, S), ('l', 640, 2e-5, 0.94, 0.1, L))},
    **{_ADE + f'mask2former_flash_internimage_{v}_{size}_160k_ade20k_ss': (
        f'mask2former_flash_internimage_{v}_{size}_160k_ade20k_ss', 1e-4, 0.05, rate, 1, clip,
        depths)
       for v, size, rate, clip, depths in (
           ('t', 512, 0.9, 0.01, T), ('s', 640, 1.0, 0.1, S), ('b', 640, 1.0, 0.1, S),
           ('l', 640, 0.94, 0.1, L))},
    _ADE + 'mask2former_flash_internimage_s_640_160k_ade20k_ss_nsmx': (
        'mask2former_flash_internimage_s_640_160k_ade20k_ss_nsmx', 1e-4, 0.05, 1.0, 1, 0.1, S),
})


def recipe_configs():
    root = ROOT / 'configs'
    return sorted(str(path.relative_to(root).with_suffix('')) for task in ('detection',
                                                                            'segmentation')
                  for path in (root / task).rglob('*.py') if path.parent.name != 'demo')


def test_every_recipe_config_is_in_the_table():
    assert set(recipe_configs()) == set(PUBLISHED_OPTIMIZERS) | OTHER_CONSTRUCTOR


def backbone_depths(cfg):
    model = cfg.model.get('module', cfg.model)  # a test-time-augmentation wrapper holds it
    backbone = model.backbone
    return tuple(backbone.get('depths') or ARCHS[variant_name(backbone.arch)]['depths'])


@pytest.mark.parametrize('config', sorted(PUBLISHED_OPTIMIZERS))
def test_recipe_config_has_the_published_optimizer(config):
    _, lr, decay, rate, offset_scale, clip, depths = PUBLISHED_OPTIMIZERS[config]
    cfg = load(config)
    wrapper = cfg.optim_wrapper
    assert (wrapper.optimizer.type, wrapper.optimizer.lr, wrapper.optimizer.weight_decay) == \
        ('AdamW', lr, decay)
    assert tuple(wrapper.optimizer.get('betas', ADAMW_BETAS)) == ADAMW_BETAS
    assert wrapper.constructor == 'InternImageLayerDecayConstructor'
    paramwise = wrapper.paramwise_cfg
    assert paramwise.rule == (DET if config.startswith('detection/') else SEG)
    assert paramwise.layer_decay_rate == rate
    assert paramwise.get('offset_lr_scale', 1.0) == offset_scale
    assert not set(CORRECTIONS) & set(paramwise), 'a correction is on in a published recipe'
    assert (wrapper.get('clip_grad') or {}).get('max_norm') == clip
    assert backbone_depths(cfg) == depths
