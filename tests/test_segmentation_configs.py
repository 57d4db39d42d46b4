"""Every segmentation config loads and builds (the big models on the meta device: no memory,
no compute) with the published recipe: variant, head widths wired to the backbone, parameter
counts, classes, crops, learning rate, layer decay, drop path, clipping and schedule."""
import glob
import inspect

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

import classification.engine  # noqa: F401  (registers the optimizer constructor)
import segmentation  # noqa: F401
from classification.models import InternImage, InternImageTrunk
from classification.models.variants import with_arch

CONFIGS = sorted(glob.glob('configs/segmentation/*/*.py'))
ADE = 'configs/segmentation/ade20k/'
CITYSCAPES = 'configs/segmentation/cityscapes/'

# config -> published (params in millions, crop, lr, layer decay, drop path, grad clip)
UPERNET_T_TO_XL = {
    't': (59, 6e-5, 1.0, 0.2, None), 's': (80, 6e-5, 1.0, 0.3, None),
    'b': (128, 6e-5, 1.0, 0.4, None), 'l': (256, 2e-5, 0.94, 0.4, 0.1),
    'xl': (368, 2e-5, 0.94, 0.4, 0.1)}
RESOLUTION = {'t': 512, 's': 512, 'b': 512, 'l': 640, 'xl': 640}
PUBLISHED = {
    **{f'{ADE}upernet_internimage_{v}_{RESOLUTION[v]}_160k_ade20k.py':
       (p, (RESOLUTION[v],) * 2, *rest) for v, (p, *rest) in UPERNET_T_TO_XL.items()},
    **{f'{CITYSCAPES}upernet_internimage_{v}_512x1024_160k_cityscapes.py':
       (p, (512, 1024), *rest) for v, (p, *rest) in UPERNET_T_TO_XL.items()},
    f'{ADE}upernet_internimage_h_896_160k_ade20k.py': (1120, (896, 896), 2e-5, 0.95, 0.4, 0.1),
    f'{ADE}mask2former_internimage_h_896_80k_cocostuff2ade20k.py':
        (None, (896, 896), 1e-5, 0.95, 0.5, 0.1),
}
CLASSES = {'ade20k': 150, 'cityscapes': 19, 'demo': 5}


def resolved(backbone):
    """The backbone's options as the model sees them: the defaults of its signature, then the
    variant table of its arch, then what the config states."""
    defaults = {name: p.default for cls in (InternImageTrunk, InternImage)
                for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    options = {k: v for k, v in backbone.items() if k != 'type'}
    return {**defaults, **with_arch(options.pop('arch'), options, head=False)}


def load(path):
    init_default_scope('mmseg')
    return Config.fromfile(path)


def test_every_published_config_is_listed():
    published = [c for c in CONFIGS if '/demo/' not in c]
    assert sorted(PUBLISHED) == published


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_with_heads_wired_to_the_backbone(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmseg'
    assert {'classification.models', 'classification.engine', 'segmentation'} <= set(
        cfg.custom_imports.imports)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    backbone = model.backbone
    assert list(cfg.model.decode_head.in_channels) == list(backbone.out_channels)
    if cfg.model.get('auxiliary_head'):
        assert cfg.model.auxiliary_head.in_channels == backbone.level_channels[2]
    num_classes = CLASSES[path.split('/')[2]]
    assert model.decode_head.num_classes == num_classes
    dataset_class = DATASETS.get(cfg.test_dataloader.dataset.type)
    assert len(dataset_class.METAINFO['classes']) == num_classes
    assert cfg.model.data_preprocessor.size == cfg.crop_size
    if path in PUBLISHED:
        params, crop, lr, decay, drop_path, clip = PUBLISHED[path]
        if params is not None:
            count = sum(p.numel() for p in model.parameters()) / 1e6
            assert count == pytest.approx(params, rel=0.01)
        assert tuple(cfg.crop_size) == crop
        assert cfg.optim_wrapper.optimizer.lr == lr
        assert cfg.optim_wrapper.constructor == 'InternImageLayerDecayConstructor'
        assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == decay
        assert cfg.model.backbone.drop_path_rate == drop_path
        assert cfg.optim_wrapper.get('clip_grad', {}).get('max_norm') == clip


@pytest.mark.parametrize('path', [p for p in PUBLISHED if '_h_' not in p])
def test_t_to_xl_use_layer_scale_one_and_no_checkpointing(path):
    backbone = resolved(load(path).model.backbone)
    assert backbone['layer_scale'] == 1.0 and backbone['with_cp'] is False
    assert backbone['init_cfg'].type == 'Pretrained'


@pytest.mark.parametrize('path', [p for p in PUBLISHED if '_h_' in p])
def test_h_has_its_published_extras(path):
    backbone = resolved(load(path).model.backbone)
    assert backbone['layer_scale'] is None and backbone['dw_kernel_size'] == 5
    assert backbone['res_post_norm'] and backbone['center_feature_scale']
    assert backbone['level2_post_norm']
    assert list(backbone['level2_post_norm_block_ids']) == [5, 11, 17, 23, 29]
    assert tuple(backbone['out_indices']) == (0, 1, 2, 3)
    assert backbone['with_cp'] == ('upernet' in path)


def test_ade_keeps_ade_conventions_and_schedule():
    cfg = load(f'{ADE}upernet_internimage_t_512_160k_ade20k.py')
    load_annotations = [t for t in cfg.train_dataloader.dataset.pipeline
                        if t.type == 'LoadAnnotations']
    assert load_annotations[0].reduce_zero_label is True
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs
    assert cfg.train_cfg.max_iters == 160000
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.end, warmup.start_factor) == ('LinearLR', 1500, 1e-6)
    assert (poly.type, poly.begin, poly.end, poly.power) == ('PolyLR', 1500, 160000, 1.0)
    assert cfg.model.test_cfg.mode == 'whole'


@pytest.mark.parametrize('name, test_scale', [
    ('upernet_internimage_t_512_160k_ade20k.py', (2048, 512)),
    ('upernet_internimage_l_640_160k_ade20k.py', (2560, 640)),
    ('upernet_internimage_h_896_160k_ade20k.py', (3584, 896))])
def test_multi_scale_test_scales_the_single_scale_size(name, test_scale):
    cfg = load(ADE + name)
    resize = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'Resize'][0]
    assert tuple(resize.scale) == test_scale
    scales, flips = cfg.tta_pipeline[1].transforms[:2]
    assert [tuple(t.scale) for t in scales] == [
        (int(test_scale[0] * r), int(test_scale[1] * r))
        for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)]
    assert [t.prob for t in flips] == [0.0, 1.0]


def test_mask2former_h_has_the_published_head():
    cfg = load(f'{ADE}mask2former_internimage_h_896_80k_cocostuff2ade20k.py')
    head = cfg.model.decode_head
    assert (head.type, head.feat_channels, head.num_queries) == ('Mask2FormerHead', 1024, 200)
    decoder_layer = head.transformer_decoder.layer_cfg
    assert decoder_layer.self_attn_cfg.num_heads == decoder_layer.cross_attn_cfg.num_heads == 32
    assert decoder_layer.ffn_cfg.feedforward_channels == 4096
    assert head.loss_cls.class_weight == [1.0] * 150 + [0.1]
    assert cfg.train_cfg.max_iters == 80000
    scales = cfg.tta_pipeline[1].transforms[0]
    assert [t.scale[1] for t in scales] == [768, 832, 896, 960, 1024]
