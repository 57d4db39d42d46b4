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

import internimage.engine  # noqa: F401  (registers the optimizer constructor)
import segmentation  # noqa: F401
from internimage.models import InternImage, InternImageTrunk
from internimage.models.variants import with_arch

CONFIGS = sorted(glob.glob('configs/segmentation/*/*.py'))
SEG = 'configs/segmentation/'
ADE = 'configs/segmentation/ade20k/'
CITYSCAPES = 'configs/segmentation/cityscapes/'
MAPILLARY = 'configs/segmentation/mapillary/'
M2F_H = 'mask2former_internimage_h'

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
    f'{ADE}upernet_internimage_h_896_160k_ade20k.py': (1120, (896, 896), 2e-5, 0.95, 0.5, 0.1),
    f'{ADE}upernet_internimage_h_896_160k_ade20k_fsdp.py':
        (1120, (896, 896), 2e-5, 0.95, 0.5, 0.1),
    **{f'{ADE}upernet_internimage_g_896_160k_ade20k{fsdp}.py':
       (None, (896, 896), 2e-5, 0.95, 0.5, 0.1) for fsdp in ('', '_fsdp')},
    **{f'{ADE}{M2F_H}_896_80k_cocostuff2ade20k{ms}.py': (1310, (896, 896), 1e-5, 0.95, 0.5, 0.1)
       for ms in ('', '_ms')},
    # Mapillary pre-training and the Cityscapes fine-tunes of the Mapillary models
    **{f'{MAPILLARY}{head}_internimage_{v}_512x1024_80k_mapillary.py':
       (params, (512, 1024), 2e-5, 0.94, 0.4, 0.1)
       for head, v, params in (('upernet', 'l', 256), ('upernet', 'xl', 368),
                               ('segformer', 'l', 220), ('segformer', 'xl', 330))},
    **{f'{CITYSCAPES}{head}_internimage_{v}_512x1024_160k_mapillary2cityscapes.py':
       (params, (512, 1024), 2e-5, 0.94, 0.4, 0.1)
       for head, v, params in (('upernet', 'l', 256), ('upernet', 'xl', 368),
                               ('segformer', 'l', 220), ('segformer', 'xl', 330))},
    f'{MAPILLARY}{M2F_H}_896x896_80k_mapillary.py': (None, (896, 896), 2e-5, 0.95, 0.5, 0.1),
    **{f'{CITYSCAPES}{M2F_H}_1024x1024_80k_mapillary2cityscapes{ms}.py':
       (None, (1024, 1024), 1e-5, 0.95, 0.5, 0.1) for ms in ('', '_ms')},
    # Mask2Former-H on the other published data sets (published #params: COCO-Stuff-164k 1.31B;
    # the 10k and 480 ones state 1.28B / 1.07B for the same heads, so they are not checked)
    f'configs/segmentation/coco_stuff164k/{M2F_H}_896_80k_cocostuff164k.py':
        (1310, (896, 896), 2e-5, 0.95, 0.5, None),
    f'configs/segmentation/coco_stuff10k/{M2F_H}_512_40k_cocostuff164k_to_10k.py':
        (None, (512, 512), 1e-5, 0.95, 0.5, None),
    f'configs/segmentation/pascal_context/{M2F_H}_480_40k_pascal_context_59.py':
        (None, (480, 480), 2e-5, 0.95, 0.5, None),
    f'configs/segmentation/nyu_depth_v2/{M2F_H}_480_40k_nyu.py':
        (None, (480, 480), 2e-5, 0.95, 0.5, None),
}
# FlashInternImage (OpenGVLab/DCNv4 segmentation/configs/ade20k/): config -> (params, crop, lr,
# layer decay, drop path, grad clip) as above, and whether the backbone checkpoints its blocks
FLASH_UPERNET = {'t': (512, 6e-5, 1.0, 0.2, None, True), 's': (512, 6e-5, 1.0, 0.3, None, True),
                 'b': (512, 6e-5, 1.0, 0.3, None, False), 'l': (640, 2e-5, 0.94, 0.4, 0.1, False)}
FLASH_M2F = {'t': (512, 1e-4, 0.9, 0.2, 0.01, False), 's': (640, 1e-4, 1.0, 0.3, 0.1, False),
             'b': (640, 1e-4, 1.0, 0.4, 0.1, False), 'l': (640, 1e-4, 0.94, 0.5, 0.1, True)}
FLASH = {
    **{f'{ADE}upernet_flash_internimage_{v}_{crop}_160k_ade20k.py': (crop, *rest)
       for v, (crop, *rest) in FLASH_UPERNET.items()},
    **{f'{ADE}mask2former_flash_internimage_{v}_{crop}_160k_ade20k_ss.py': (crop, *rest)
       for v, (crop, *rest) in FLASH_M2F.items()},
    f'{ADE}mask2former_flash_internimage_s_640_160k_ade20k_ss_nsmx.py': (640, *FLASH_M2F['s'][1:])}
PUBLISHED.update({path: (None, (crop,) * 2, lr, decay, drop_path, clip)
                  for path, (crop, lr, decay, drop_path, clip, _) in FLASH.items()})
# classes of the data set; the published UperNet and SegFormer Mapillary / Mapillary ->
# Cityscapes heads and the published UperNet Cityscapes heads keep 150 outputs (HEAD_CLASSES),
# of which the 19 Cityscapes ids are the first
CLASSES = {'ade20k': 150, 'cityscapes': 19, 'mapillary': 19, 'coco_stuff164k': 171,
           'coco_stuff10k': 171, 'pascal_context': 59, 'nyu_depth_v2': 40, 'demo': 5}
HEAD_CLASSES = {path: 150 for path in PUBLISHED if '_512x1024_' in path}
# (max iterations, validation interval, images per GPU) as published
SCHEDULES = {
    **{path: (80000, 8000, 2) for path in PUBLISHED if '_80k_mapillary.py' in path
       and M2F_H not in path},
    **{path: (160000, 4000, 2) for path in PUBLISHED if '160k_mapillary2cityscapes' in path},
    f'{MAPILLARY}{M2F_H}_896x896_80k_mapillary.py': (80000, 2000, 2),
    f'{CITYSCAPES}{M2F_H}_1024x1024_80k_mapillary2cityscapes.py': (80000, 2000, 2),
    f'{ADE}upernet_internimage_g_896_160k_ade20k.py': (160000, 16000, 1),
    f'configs/segmentation/coco_stuff164k/{M2F_H}_896_80k_cocostuff164k.py': (80000, 8000, 1),
    f'configs/segmentation/coco_stuff10k/{M2F_H}_512_40k_cocostuff164k_to_10k.py':
        (40000, 2000, 1),
    f'configs/segmentation/pascal_context/{M2F_H}_480_40k_pascal_context_59.py':
        (40000, 2000, 1),
    f'configs/segmentation/nyu_depth_v2/{M2F_H}_480_40k_nyu.py': (40000, 2000, 1),
    **{path: (160000, 2000 if '_l_' in path else 5000, 2) for path in FLASH
       if 'mask2former' in path},
    **{path: (160000, 16000, 2) for path in FLASH if 'upernet' in path},
}


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


def segmentor(model_cfg):
    """The segmentor of a config's model: the model itself, or inside the test-only
    multi-scale configs' SegTTAModel."""
    return model_cfg.get('module', model_cfg)


def dataset_types(dataset_cfg):
    """The dataset classes a dataloader's dataset builds, through ConcatDataset wrappers."""
    if 'datasets' in dataset_cfg:
        return [t for d in dataset_cfg.datasets for t in dataset_types(d)]
    return [dataset_cfg.type]


def test_every_published_config_is_listed():
    published = [c for c in CONFIGS if '/demo/' not in c]
    assert sorted(PUBLISHED) == published


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_with_heads_wired_to_the_backbone(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmseg'
    assert {'internimage.models', 'internimage.engine', 'segmentation'} <= set(
        cfg.custom_imports.imports)
    model_cfg = segmentor(cfg.model)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    built = getattr(model, 'module', model)
    backbone = built.backbone
    assert list(model_cfg.decode_head.in_channels) == list(backbone.out_channels)
    if model_cfg.get('auxiliary_head'):
        assert model_cfg.auxiliary_head.in_channels == backbone.level_channels[2]
    num_classes = CLASSES[path.split('/')[2]]
    assert built.decode_head.num_classes == HEAD_CLASSES.get(path, num_classes)
    for split in ('train', 'val', 'test'):
        for dataset_type in dataset_types(cfg[f'{split}_dataloader'].dataset):
            metainfo = DATASETS.get(dataset_type).METAINFO
            # Mapillary's own 66 classes are mapped to the 19 Cityscapes ones on loading
            mapped = dataset_type == 'MapillaryDataset_v1'
            assert len(metainfo['classes']) == (66 if mapped else num_classes), dataset_type
    assert model_cfg.data_preprocessor.size == cfg.crop_size
    if path in SCHEDULES:
        max_iters, val_interval, batch = SCHEDULES[path]
        assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (max_iters, val_interval)
        assert cfg.train_dataloader.batch_size == batch
    if path in PUBLISHED:
        params, crop, lr, decay, drop_path, clip = PUBLISHED[path]
        if params is not None:
            count = sum(p.numel() for p in model.parameters()) / 1e6
            assert count == pytest.approx(params, rel=0.01)
        assert tuple(cfg.crop_size) == crop
        assert cfg.optim_wrapper.optimizer.lr == lr
        assert cfg.optim_wrapper.constructor == 'InternImageLayerDecayConstructor'
        assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == decay
        assert model_cfg.backbone.drop_path_rate == drop_path
        assert cfg.optim_wrapper.get('clip_grad', {}).get('max_norm') == clip
        if path.endswith('_fsdp.py'):
            assert cfg.runner_type == 'FlexibleRunner' and cfg.strategy.type == 'InternImageFSDPStrategy'
            assert cfg.optim_wrapper.type == 'ShardedOptimWrapper'


def published_backbone(path):
    cfg = load(path)
    return cfg, resolved(segmentor(cfg.model).backbone)


@pytest.mark.parametrize('path', sorted(FLASH))
def test_flash_internimage_backbones_are_as_published(path):
    cfg = load(path)
    backbone = segmentor(cfg.model).backbone
    assert backbone.type == 'FlashInternImage' and backbone.get('layer_scale', 1.0) == 1.0
    with torch.device('meta'):
        built = MODELS.build(backbone)
    block = built.levels[0].blocks[0]
    assert type(block.dcn).__name__ == 'DCNv4' and block.gamma1 is not None
    assert block.with_cp == FLASH[path][-1]
    assert 'flash_intern_image_' in backbone.init_cfg.checkpoint


@pytest.mark.parametrize('path', [p for p in PUBLISHED if '_h_' not in p and '_g_' not in p
                                  and p not in FLASH])
def test_t_to_xl_use_layer_scale_one_and_no_checkpointing(path):
    cfg, backbone = published_backbone(path)
    assert backbone['layer_scale'] == 1.0 and backbone['with_cp'] is False
    if 'mapillary2cityscapes' in path:  # fine-tunes of a Mapillary segmentor (which one:
        # test_published_dense_recipes.py)
        assert backbone['init_cfg'] is None and '_80k_mapillary.pth' in cfg.load_from
    else:
        assert backbone['init_cfg'].type == 'Pretrained'


@pytest.mark.parametrize('path', [p for p in PUBLISHED if '_h_' in p])
def test_h_has_its_published_extras(path):
    cfg, backbone = published_backbone(path)
    assert backbone['layer_scale'] is None and backbone['dw_kernel_size'] == 5
    assert backbone['res_post_norm'] and backbone['center_feature_scale']
    assert backbone['level2_post_norm'] and not backbone['post_norm']
    assert list(backbone['level2_post_norm_block_ids']) == [5, 11, 17, 23, 29]
    assert tuple(backbone['out_indices']) == (0, 1, 2, 3)
    if M2F_H in path:  # fine-tunes load a whole segmentor, the others the H backbone
        assert (backbone['init_cfg'] is None) == bool(cfg.get('load_from'))
        assert backbone['init_cfg'] is None or \
            'internimage_h_jointto22k_384' in backbone['init_cfg'].checkpoint


@pytest.mark.parametrize('path', [p for p in PUBLISHED if '_g_' in p])
def test_g_has_its_published_extras(path):
    cfg, backbone = published_backbone(path)
    assert backbone['layer_scale'] is None and backbone['dw_kernel_size'] == 5
    assert backbone['post_norm'] and not backbone['res_post_norm']
    assert backbone['center_feature_scale'] and backbone['level2_post_norm']
    assert list(backbone['level2_post_norm_block_ids']) == list(range(5, 48, 6))
    assert backbone['with_cp'] is True
    assert 'internimage_g_pretrainto22k_384' in backbone['init_cfg'].checkpoint
    assert list(cfg.model.decode_head.in_channels) == [512, 1024, 2048, 4096]


def test_ade_keeps_ade_conventions_and_schedule():
    cfg = load(f'{ADE}upernet_internimage_t_512_160k_ade20k.py')
    load_annotations = [t for t in cfg.train_dataloader.dataset.pipeline
                        if t.type == 'LoadAnnotations']
    assert load_annotations[0].reduce_zero_label is True
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs
    assert cfg.train_cfg.max_iters == 160000
    warmup, poly = cfg.param_scheduler  # (ends one past mmcv's: test_published_dense_recipes)
    assert (warmup.type, warmup.end, warmup.start_factor) == ('LinearLR', 1501, 1e-6)
    assert (poly.type, poly.begin, poly.end, poly.power) == ('PolyLR', 0, 160001, 1.0)
    assert cfg.model.test_cfg.mode == 'whole'


@pytest.mark.parametrize('name, test_scale', [
    ('upernet_internimage_t_512_160k_ade20k.py', (2048, 512)),
    ('upernet_internimage_l_640_160k_ade20k.py', (2560, 640)),
    ('upernet_internimage_h_896_160k_ade20k.py', (3584, 896))])
def test_multi_scale_test_scales_the_single_scale_size(name, test_scale):
    cfg = load(ADE + name)
    resize = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'Resize'][0]
    assert tuple(resize.scale) == test_scale
    scales, to_multiple, flips = cfg.tta_pipeline[1].transforms[:3]
    assert to_multiple == [dict(type='ResizeToMultiple', size_divisor=32)]
    assert [tuple(t.scale) for t in scales] == [
        (int(test_scale[0] * r), int(test_scale[1] * r))
        for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)]
    assert [t.prob for t in flips] == [0.0, 1.0]


def test_mask2former_h_has_the_published_head():
    cfg = load(f'{ADE}mask2former_internimage_h_896_80k_cocostuff2ade20k.py')
    head = cfg.model.decode_head
    assert (head.type, head.feat_channels, head.num_queries) == (
        'InternImageMask2FormerHead', 1024, 200)
    decoder_layer = head.transformer_decoder.layer_cfg
    assert decoder_layer.self_attn_cfg.num_heads == decoder_layer.cross_attn_cfg.num_heads == 32
    assert decoder_layer.ffn_cfg.feedforward_channels == 4096
    assert head.loss_cls.class_weight == [1.0] * 150 + [0.1]
    assert cfg.train_cfg.max_iters == 80000


@pytest.mark.parametrize('name, ratios, flips', [
    (f'ade20k/{M2F_H}_896_80k_cocostuff2ade20k_ms.py',
     [768 / 896, 832 / 896, 1.0, 960 / 896, 1024 / 896], 2),
    (f'cityscapes/{M2F_H}_1024x1024_80k_mapillary2cityscapes_ms.py',
     [0.5, 0.75, 1.0, 1.25, 1.5, 1.75], 2)])
def test_multi_scale_configs_test_the_single_scale_model_at_the_published_scales(
        name, ratios, flips):
    cfg, single = load(SEG + name), load(SEG + name.replace('_ms', ''))
    assert cfg.model.type == 'SegTTAModel' and cfg.model.module == single.model
    augment = cfg.test_dataloader.dataset.pipeline[1]
    resizes, to_multiple, flip = augment.transforms[:3]
    assert augment.type == 'TestTimeAug' and len(flip) == flips
    assert to_multiple == [dict(type='ResizeToMultiple', size_divisor=32)]
    width, height = (3584, 896) if 'ade20k' in name else (2048, 1024)
    assert [t.scale for t in resizes] == [(int(width * r), int(height * r)) for r in ratios]


def test_mask2former_h_heads_are_the_published_sizes():
    wide = [f'ade20k/{M2F_H}_896_80k_cocostuff2ade20k.py',
            f'coco_stuff164k/{M2F_H}_896_80k_cocostuff164k.py',
            f'coco_stuff10k/{M2F_H}_512_40k_cocostuff164k_to_10k.py']
    standard = [f'mapillary/{M2F_H}_896x896_80k_mapillary.py',
                f'cityscapes/{M2F_H}_1024x1024_80k_mapillary2cityscapes.py',
                f'pascal_context/{M2F_H}_480_40k_pascal_context_59.py',
                f'nyu_depth_v2/{M2F_H}_480_40k_nyu.py']
    for names, (channels, queries, heads) in ((wide, (1024, 200, 32)), (standard, (256, 100, 8))):
        for name in names:
            head = load(SEG + name).model.decode_head
            layer = head.transformer_decoder.layer_cfg
            assert (head.feat_channels, head.num_queries, layer.self_attn_cfg.num_heads) == (
                channels, queries, heads), name
            assert head.loss_cls.class_weight == [1.0] * head.num_classes + [0.1]


def test_mask2former_h_data_follow_the_published_pipelines():
    def step(pipeline, kind):
        return next(t for t in pipeline if t.type == kind)
    stuff10k = load(SEG + f'coco_stuff10k/{M2F_H}_512_40k_cocostuff164k_to_10k.py')
    assert stuff10k.train_dataloader.dataset.reduce_zero_label is True
    assert stuff10k.load_from.endswith('mask2former_internimage_h_896_80k_cocostuff164k.pth')
    stuff164k = load(SEG + f'coco_stuff164k/{M2F_H}_896_80k_cocostuff164k.py')
    assert step(stuff164k.train_dataloader.dataset.pipeline, 'RandomResize').scale == (3584, 896)
    assert not stuff164k.train_dataloader.dataset.get('reduce_zero_label', False)
    context = load(SEG + f'pascal_context/{M2F_H}_480_40k_pascal_context_59.py')
    assert step(context.test_dataloader.dataset.pipeline, 'Resize').scale == (4096, 520)
    nyu = load(SEG + f'nyu_depth_v2/{M2F_H}_480_40k_nyu.py')
    assert step(nyu.train_dataloader.dataset.pipeline, 'RandomResize').scale == (2048, 512)
    assert step(nyu.test_dataloader.dataset.pipeline, 'Resize').scale == (640, 480)
    mapillary = load(SEG + f'mapillary/{M2F_H}_896x896_80k_mapillary.py')
    for dataset in mapillary.train_dataloader.dataset.datasets:
        assert [t.type for t in dataset.pipeline[:3]] == [
            'LoadImageFromFile', 'LoadAnnotations', 'MapillaryToCityscapes']
        assert step(dataset.pipeline, 'RandomResize').ratio_range == (0.5, 2.0)
    assert mapillary.model.test_cfg == dict(mode='slide', crop_size=(896, 896), stride=(512, 512))
    cityscapes = load(SEG + f'cityscapes/{M2F_H}_1024x1024_80k_mapillary2cityscapes.py')
    assert cityscapes.load_from.endswith('mask2former_internimage_h_896x896_80k_mapillary.pth')
    assert [d.data_prefix.img_path for d in cityscapes.train_dataloader.dataset.datasets] == [
        'leftImg8bit/train', 'leftImg8bit/train_extra']
