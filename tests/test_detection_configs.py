"""Every detection config reads, builds through mmdet's MODELS (full size, on the meta device, so
T..G and CB-H take no memory or time), wires its neck to its backbone, and carries the published
recipe (the published configs' values) to the optimizer, schedule and model."""
import copy
import functools
import glob
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import internimage.engine  # noqa: F401  (registers the optimizer constructor)
import detection  # noqa: F401  (registers CBInternImage and CBDINO)
from internimage.models.variants import variant_name

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(glob.glob(str(ROOT / 'configs' / 'detection' / '**' / '*.py'), recursive=True))


def config_id(path):
    return Path(path).stem


@functools.lru_cache(maxsize=None)
def parse(path):
    return Config.fromfile(str(path))


def load(name):
    """The config ``name`` (relative to configs/detection), parsed once per session."""
    return copy.deepcopy(parse(ROOT / 'configs' / 'detection' / name))


def backbone_matches_variant(backbone_cfg, variant):
    """The config's backbone is the named variant (its other options are checked against the
    table in test_config_structure.py); an arch key names one of the backbone's family."""
    from internimage.models.variants import FLASH_PREFIX, MODEL_PREFIX
    prefix = FLASH_PREFIX if backbone_cfg.type == 'FlashInternImage' else MODEL_PREFIX
    return backbone_cfg.get('arch') is not None and \
        variant_name(backbone_cfg['arch'], prefix) == variant_name(variant)


def built_backbone(backbone_cfg):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    with torch.device('meta'):
        return MODELS.build(backbone_cfg)


def test_every_config_is_found():
    names = {config_id(p) for p in CONFIGS}
    # 25 InternImage recipes, its use_dcn_v4_op twin, 12 FlashInternImage ones, the demo
    assert len(CONFIGS) == 39
    for expected in ('mask_rcnn_internimage_t_fpn_3x_coco', 'cascade_internimage_xl_fpn_1x_coco',
                     'mask_rcnn_internimage_t_fpn_1x_coco_with_dcnv4',
                     'mask_rcnn_flash_internimage_b_fpn_3x_coco',
                     'cascade_flash_internimage_l_fpn_3x_coco',
                     'dino_4scale_flash_internimage_l_1x_coco',
                     'dino_4scale_internimage_g_o365_coco',
                     'dino_4scale_cbinternimage_h_o365_coco',
                     'mask_rcnn_internimage_demo_shapes',
                     *TRANSFERS, *(f'dino_4scale_{n}_o365_coco_fsdp' for n in (
                         'internimage_h', 'internimage_g', 'cbinternimage_h'))):
        assert expected in names


# the published CB-InternImage-H Objects365 transfers: (folder, classes, lr, iterations,
# evaluation/checkpoint interval, train dataset type, evaluator type)
TRANSFERS = {
    'dino_4scale_cbinternimage_h_objects365_lvis_val_ss':
        ('lvis', 1203, 1e-4, 80000, 500, 'ClassBalancedDataset', 'LVISNumpy2Metric'),
    'dino_4scale_cbinternimage_h_objects365_lvis_minival_ss':
        ('lvis', 1203, 1e-4, 80000, 500, 'ClassBalancedDataset', 'LVISNumpy2Metric'),
    'dino_4scale_cbinternimage_h_objects365_openimages_ss':
        ('openimages', 601, 1e-4, 100000, 2000, 'OpenImagesDataset', 'OpenImagesMetric'),
    'dino_4scale_cbinternimage_h_objects365_voc07':
        ('voc', 20, 5e-5, 20000, 500, 'RepeatDataset', 'VOCMetric'),
    'dino_4scale_cbinternimage_h_objects365_voc12':
        ('voc', 20, 5e-5, 20000, 500, 'RepeatDataset', 'VOCSubmissionWriter'),
}


def leaf_datasets(dataset_cfg):
    """The datasets a dataloader's dataset reads, through mmengine's wrappers."""
    if 'datasets' in dataset_cfg:
        return [leaf for d in dataset_cfg.datasets for leaf in leaf_datasets(d)]
    if 'dataset' in dataset_cfg:
        return leaf_datasets(dataset_cfg.dataset)
    return [dataset_cfg]


@pytest.mark.parametrize('name', sorted(TRANSFERS))
def test_objects365_transfers_follow_the_published_recipes(name):
    from mmdet.registry import DATASETS, METRICS
    folder, classes, lr, iters, interval, train_type, metric = TRANSFERS[name]
    cfg = load(f'{folder}/{name}.py')
    assert (cfg.model.type, cfg.model.backbone.type) == ('CBDINO', 'CBInternImage')
    assert cfg.model.bbox_head.num_classes == classes
    assert cfg.optim_wrapper.optimizer.lr == lr
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.94
    assert cfg.optim_wrapper.paramwise_cfg.offset_lr_scale == 1e-3
    assert cfg.optim_wrapper.clip_grad.max_norm == 0.1
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (iters, interval)
    assert cfg.default_hooks.checkpoint.interval == interval
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.train_dataloader.dataset.type == train_type
    init_default_scope('mmdet')
    for split in ('train', 'val', 'test'):  # (pipelines: test_published_dense_recipes.py)
        for dataset in leaf_datasets(cfg[f'{split}_dataloader'].dataset):
            known = DATASETS.get(dataset.type).METAINFO.get('classes')
            assert known is None or len(known) == classes  # OpenImages reads its label file
    assert METRICS.get(cfg.test_evaluator.type).__name__ == metric
    assert METRICS.get(cfg.val_evaluator.type) is not None


def test_transfer_evaluation_sets_are_the_published_ones():
    minival = load('lvis/dino_4scale_cbinternimage_h_objects365_lvis_minival_ss.py')
    val = load('lvis/dino_4scale_cbinternimage_h_objects365_lvis_val_ss.py')
    assert minival.test_evaluator.ann_file == 'data/lvis_v1/annotations/lvis_v1_minival.json'
    assert minival.test_dataloader.dataset.ann_file == 'annotations/lvis_v1_minival.json'
    assert val.test_evaluator.ann_file == 'data/lvis_v1/annotations/lvis_v1_val.json'
    assert val.train_dataloader.dataset.oversample_thr == 1e-3
    openimages = load('openimages/dino_4scale_cbinternimage_h_objects365_openimages_ss.py')
    assert openimages.train_dataloader.sampler == dict(type='ClassAwareSampler',
                                                       num_sample_class=1)
    assert 'image_level_labels' in openimages.test_dataloader.dataset.pipeline[-1].meta_keys
    voc07 = load('voc/dino_4scale_cbinternimage_h_objects365_voc07.py')
    voc12 = load('voc/dino_4scale_cbinternimage_h_objects365_voc12.py')
    assert [d.ann_file for d in leaf_datasets(voc07.train_dataloader.dataset)] == [
        'VOC2007/ImageSets/Main/trainval.txt', 'VOC2012/ImageSets/Main/trainval.txt']
    assert voc07.train_dataloader.dataset.times == 3
    assert voc07.test_evaluator.eval_mode == '11points'
    assert voc12.val_dataloader.dataset.ann_file == 'VOC2007/ImageSets/Main/test.txt'
    assert voc12.test_dataloader.dataset.ann_file == 'VOC2012test/ImageSets/Main/test.txt'


LVIS_CONFIGS = sorted(name for name, transfer in TRANSFERS.items() if transfer[0] == 'lvis')


def lvis_metric(name, tmp_path):
    """The config's own LVIS evaluator (mmdet's metric, run on numpy 2; the lvis package,
    requirements.txt) on a one-image LVIS v1 annotation file: a frequent class with one box, a
    rare class without any."""
    from mmdet.registry import METRICS
    annotations = dict(
        images=[dict(id=7, height=40, width=50, file_name='7.jpg', neg_category_ids=[],
                     not_exhaustive_category_ids=[])],
        annotations=[dict(id=1, image_id=7, category_id=1, bbox=[5, 5, 20, 10], area=200)],
        categories=[dict(id=1, name='cup', frequency='f'), dict(id=2, name='yak', frequency='r')])
    ann_file = tmp_path / 'lvis.json'
    ann_file.write_text(json.dumps(annotations))
    init_default_scope('mmdet')
    metric = METRICS.build(dict(load(f'lvis/{name}.py').test_evaluator, ann_file=str(ann_file)))
    metric.dataset_meta = dict(classes=('cup', 'yak'))
    # a wrong box of the class scored above the right one: AP50 0.5
    metric.process({}, [dict(img_id=7, ori_shape=(40, 50), pred_instances=dict(
        bboxes=torch.tensor([[15., 5., 35., 15.], [5., 5., 25., 15.]]),
        scores=torch.tensor([0.95, 0.9]), labels=torch.tensor([0, 0])))])
    return metric


@pytest.mark.parametrize('name', LVIS_CONFIGS)
def test_lvis_configs_build_their_metric_on_lvis_annotations(name, tmp_path):
    metric = lvis_metric(name, tmp_path)
    assert type(metric).__name__ == 'LVISNumpy2Metric' and metric.metrics == ['bbox']
    assert metric._lvis_api.get_cat_ids() == [1, 2] and metric._lvis_api.get_img_ids() == [7]
    (ground_truth, prediction), = metric.results
    assert ground_truth['img_id'] == 7 and prediction['labels'].tolist() == [0, 0]


def test_lvis_metric_computes_box_ap_on_numpy2(tmp_path):
    """lvis 0.5.3 calls np.float, which numpy 2 removed (detection/lvis_metric.py)."""
    metric = lvis_metric(LVIS_CONFIGS[0], tmp_path)
    result = metric.compute_metrics(metric.results)
    assert (result['bbox_AP50'], result['bbox_APf']) == (0.5, result['bbox_AP'])


@pytest.mark.parametrize('path', [p for p in CONFIGS if p.endswith('_fsdp.py')], ids=config_id)
def test_fsdp_variants_shard_the_published_recipe(path):
    cfg = load(Path(path).relative_to(ROOT / 'configs' / 'detection'))
    plain = load(Path(path.replace('_fsdp', '')).relative_to(ROOT / 'configs' / 'detection'))
    assert cfg.runner_type == 'FlexibleRunner' and cfg.strategy.type == 'InternImageFSDPStrategy'
    assert cfg.strategy.model_wrapper.auto_wrap_policy.type == 'internimage_layer_wrap_policy'
    assert cfg.optim_wrapper.type == 'ShardedOptimWrapper'
    assert cfg.optim_wrapper.paramwise_cfg == plain.optim_wrapper.paramwise_cfg
    assert cfg.model == plain.model and cfg.model.backbone.with_cp is True


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds_with_a_wired_neck(path):
    from mmdet.registry import MODELS
    cfg = load(Path(path).relative_to(ROOT / 'configs' / 'detection'))
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports.imports == ['internimage.models', 'internimage.engine',
                                         'detection']
    init_default_scope('mmdet')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == cfg.model.type
    assert list(cfg.model.neck.in_channels) == list(model.backbone.out_channels)
    if path.endswith(BACKBONE_LR_0_1X):  # the published alternative to layer-wise decay
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {'backbone': {'lr_mult': 0.1}}
    else:
        assert cfg.optim_wrapper.constructor == 'InternImageLayerDecayConstructor'


# the recipes that train the backbone at 0.1x the lr with mmengine's default constructor
BACKBONE_LR_0_1X = ('dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr.py',
                    'dino_4scale_flash_internimage_l_1x_coco.py')
PUBLISHED = {
    # config: (variant, drop path, lr, weight decay, layer decay, offset lr scale, epochs)
    'coco/mask_rcnn_internimage_t_fpn_1x_coco.py': ('internimage_t', 0.2, 1e-4, 0.05, 1.0, 1, 12),
    'coco/mask_rcnn_internimage_s_fpn_1x_coco.py': ('internimage_s', 0.3, 1e-4, 0.05, 1.0, 1, 12),
    'coco/mask_rcnn_internimage_b_fpn_1x_coco.py': ('internimage_b', 0.4, 1e-4, 0.05, 1.0, 1, 12),
    'coco/mask_rcnn_internimage_t_fpn_3x_coco.py': ('internimage_t', 0.2, 1e-4, 0.05, 1.0, 1, 36),
    'coco/mask_rcnn_internimage_s_fpn_3x_coco.py': ('internimage_s', 0.3, 1e-4, 0.05, 1.0, 1, 36),
    'coco/mask_rcnn_internimage_b_fpn_3x_coco.py': ('internimage_b', 0.4, 1e-4, 0.05, 1.0, 1, 36),
    'coco/cascade_internimage_l_fpn_1x_coco.py': ('internimage_l', 0.4, 1e-4, 0.05, 0.94, 1, 12),
    'coco/cascade_internimage_xl_fpn_1x_coco.py': ('internimage_xl', 0.4, 1e-4, 0.05, 0.94, 1,
                                                   12),
    'coco/cascade_internimage_l_fpn_3x_coco.py': ('internimage_l', 0.4, 2e-4, 0.05, 0.90, 0.01,
                                                  36),
    'coco/cascade_internimage_xl_fpn_3x_coco.py': ('internimage_xl', 0.6, 2e-4, 0.05, 0.90, 0.01,
                                                   36),
    'coco/dino_4scale_internimage_t_1x_coco.py': ('internimage_t', 0.2, 1e-4, 1e-4, 0.9, 1, 12),
    'coco/dino_4scale_internimage_l_1x_coco.py': ('internimage_l', 0.4, 1e-4, 1e-4, 0.9, 1, 12),
    'coco/dino_4scale_internimage_h_o365_coco.py': ('internimage_h', 0.5, 1e-4, 1e-4, 0.94, 1e-3,
                                                    None),
    'coco/dino_4scale_internimage_g_o365_coco.py': ('internimage_g', 0.5, 1e-4, 1e-4, 0.94, 1e-3,
                                                    None),
    'coco/dino_4scale_cbinternimage_h_o365_coco.py': ('internimage_h', 0.5, 1e-4, 1e-4, 0.94,
                                                      1e-3, None),
    **{f'coco/dino_4scale_{n}_o365_coco_fsdp.py': (f'internimage_{n[-1]}', 0.5, 1e-4, 1e-4, 0.94,
                                                   1e-3, None)
       for n in ('internimage_h', 'internimage_g', 'cbinternimage_h')},
    **{f'{folder}/{name}.py': ('internimage_h', 0.5, lr, 1e-4, 0.94, 1e-3, None)
       for name, (folder, _, lr, *_) in TRANSFERS.items()},
    # FlashInternImage (OpenGVLab/DCNv4 detection/configs/coco/)
    **{f'coco/mask_rcnn_flash_internimage_{v}_fpn_{s}_coco.py': (
        f'flash_internimage_{v}', drop_path, lr, 0.05, decay, offset_scale, epochs)
       for v, s, drop_path, lr, decay, offset_scale, epochs in (
           ('t', '1x', 0.2, 1e-4, 1.0, 1, 12), ('t', '3x', 0.2, 1e-4, 1.0, 1, 36),
           ('s', '1x', 0.3, 1e-4, 1.0, 1, 12), ('s', '3x', 0.4, 2e-4, 1.0, 1, 36),
           ('b', '1x', 0.3, 1e-4, 1.0, 1, 12), ('b', '3x', 0.4, 2e-4, 0.9, 0.01, 36))},
    'coco/cascade_flash_internimage_l_fpn_1x_coco.py': ('flash_internimage_l', 0.4, 1e-4, 0.05,
                                                        0.94, 1, 12),
    'coco/cascade_flash_internimage_l_fpn_3x_coco.py': ('flash_internimage_l', 0.4, 2e-4, 0.05,
                                                        0.90, 0.01, 36),
    **{f'coco/dino_4scale_flash_internimage_{v}_1x_coco.py': (
        f'flash_internimage_{v}', drop_path, 2e-4, 1e-4, 0.9, 1, 12)
       for v, drop_path in (('t', 0.2), ('s', 0.3), ('b', 0.3))},
}


@pytest.mark.parametrize('name', sorted(PUBLISHED))
def test_config_follows_the_published_recipe(name):
    variant, drop_path, lr, weight_decay, decay, offset_scale, epochs = PUBLISHED[name]
    cfg = load(name)
    backbone = cfg.model.backbone
    assert backbone_matches_variant(backbone, variant)
    assert backbone.drop_path_rate == drop_path
    built = built_backbone(backbone)
    assert all(isinstance(trunk.levels[0].blocks[0].norm1[0], torch.nn.LayerNorm)
               for trunk in getattr(built, 'cb_modules', [built]))
    optimizer, paramwise = cfg.optim_wrapper.optimizer, cfg.optim_wrapper.paramwise_cfg
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == ('AdamW', lr, weight_decay)
    assert paramwise.layer_decay_rate == decay
    assert paramwise.get('offset_lr_scale', 1) == offset_scale
    if epochs is not None:
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.param_scheduler[-1].end == epochs
    if 'dino' in name:
        assert cfg.model.num_queries == 900
        assert built.out_indices == (1, 2, 3)
        assert cfg.model.neck.type == 'ChannelMapper' and cfg.model.neck.num_outs == 4
        assert cfg.optim_wrapper.clip_grad.max_norm == 0.1
    else:
        assert backbone.layer_scale == 1.0 and built.out_indices == (0, 1, 2, 3)


def test_3x_configs_train_36_epochs_with_multi_scale_crop():
    cfg = load('coco/mask_rcnn_internimage_s_fpn_3x_coco.py')
    assert [s.milestones for s in cfg.param_scheduler if s.type == 'MultiStepLR'] == [[27, 33]]
    choice = next(t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'RandomChoice')
    crop_branch = choice.transforms[1]
    assert [t.type for t in crop_branch] == ['RandomChoiceResize', 'RandomCrop',
                                             'RandomChoiceResize']
    assert crop_branch[1].crop_size == (384, 600)
    assert choice.transforms[0][0].scales[0] == (480, 1333)
    assert choice.transforms[0][0].scales[-1] == (800, 1333)
    cascade = load('coco/cascade_internimage_l_fpn_3x_coco.py')
    assert cascade.custom_hooks[0].type == 'EMAHook'


def test_h_g_and_cb_configs_use_the_published_large_model_settings():
    for name in ('dino_4scale_internimage_h_o365_coco.py', 'dino_4scale_internimage_g_o365_coco.py',
                 'dino_4scale_cbinternimage_h_o365_coco.py'):
        cfg = load('coco/' + name)
        assert cfg.model.backbone.with_cp is True
        assert cfg.model.dn_cfg.group_cfg.num_dn_queries == 1000
        assert cfg.train_cfg.type == 'IterBasedTrainLoop' and cfg.train_cfg.max_iters == 20000
        assert cfg.train_dataloader.batch_size == 1
    cb = load('coco/dino_4scale_cbinternimage_h_o365_coco.py').model
    assert (cb.type, cb.backbone.type, cb.assist_loss_weight) == ('CBDINO', 'CBInternImage', 0.5)


def test_large_backbones_have_the_published_size():
    """Parameter counts of the configs' backbones (meta device) against the variants' published
    sizes (less the classification head): the config's architecture keys are not mistyped."""
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    expected_millions = {'coco/cascade_internimage_xl_fpn_1x_coco.py': 335,
                         'coco/dino_4scale_internimage_h_o365_coco.py': 1080}
    for name, published in expected_millions.items():
        with torch.device('meta'):
            backbone = MODELS.build(load(name).model.backbone)
        count = sum(p.numel() for p in backbone.parameters()) / 1e6
        assert 0.85 * published < count < published
    with torch.device('meta'):
        cb = MODELS.build(load('coco/dino_4scale_cbinternimage_h_o365_coco.py').model.backbone)
        single = MODELS.build(load('coco/dino_4scale_internimage_h_o365_coco.py').model.backbone)
    cb_count = sum(p.numel() for p in cb.parameters())
    single_count = sum(p.numel() for p in single.parameters())
    # two trunks, one stem, plus the composite connections (a few percent)
    assert 2 * single_count < cb_count < 2.1 * single_count
