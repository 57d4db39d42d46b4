"""Detection with InternImage on mmdet 3.3, on CPU with tiny models and tiny generated data: the
COCO-format generator, mmdet's CocoMetric giving real numbers on it, one training step and one
inference step of Mask R-CNN, Cascade Mask R-CNN, DINO and CB-DINO built from the real configs,
the layer-wise lr of a config reaching the optimizer, classification-layout checkpoints loading
through init_cfg, the composite backbone, and the image demo."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from pycocotools.coco import COCO

import internimage.engine  # noqa: F401  (registers the optimizer constructor)
import detection  # noqa: F401  (registers CBInternImage and CBDINO)
from internimage.demo_data.detection import annotation_file, generate
from internimage.models import InternImage, InternImageClassifier
from internimage.models.layers import InternImageLayer
from internimage.models.variants import arch_options, level_channels
from detection.cb_internimage import CBInternImage

ROOT = Path(__file__).resolve().parents[1]
DETECTION_CONFIGS = ROOT / 'configs' / 'detection'
DEMO_CONFIG = DETECTION_CONFIGS / 'demo' / 'mask_rcnn_internimage_demo_shapes.py'
CLASSES = ('circle', 'square', 'triangle', 'star')
IMAGE_SIZE = 64
# The unpublished test variant, built by itself ...
TINY_TRUNK = dict(arch='test', core_op='DCNv3')
# ... or its widths and depths over a config's backbone, whose variant's other options stay
TINY_BACKBONE = dict(arch_options('test'), core_op='DCNv3', drop_path_rate=0.0, with_cp=False,
                     init_cfg=None)


@pytest.fixture(scope='module', autouse=True)
def mmdet_scope():
    init_default_scope('mmdet')


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return generate(str(tmp_path_factory.mktemp('coco_shapes')), num_train=4, num_val=3,
                    image_size=IMAGE_SIZE, seed=0, max_objects=3)


def demo_cli_options(coco_root, batch_size):
    """``--cfg-options`` values that train the demo config for one epoch on a generated set
    ``coco_root`` and evaluate on its validation split."""
    options = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
               f'val_evaluator.ann_file={annotation_file(coco_root, "val")}',
               f'test_evaluator.ann_file={annotation_file(coco_root, "val")}']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [f'{loader}.num_workers=0', f'{loader}.batch_size={batch_size}',
                    f'{loader}.dataset.data_root={coco_root}']
    return options


def build_detector(cfg):
    from mmdet.registry import MODELS
    model = revert_sync_batchnorm(MODELS.build(cfg.model))  # SyncBN heads on one CPU process
    model.init_weights()
    return model


def tiny_config(name, **model_overrides):
    """Config ``name`` (relative to configs/detection, or a full path) with the tiny backbone
    (and the neck widths it needs)."""
    cfg = Config.fromfile(str(DETECTION_CONFIGS / name))
    cfg.model.backbone.update(TINY_BACKBONE)
    out_indices = cfg.model.backbone.get('out_indices', (0, 1, 2, 3))
    cfg.model.neck.in_channels = level_channels('test', out_indices)
    cfg.merge_from_dict(model_overrides)
    return cfg


def few_rois(name, stages=1):
    """An R-CNN config made fast for a CPU step: 30 proposals and 16 sampled RoIs per image
    (instead of 1000 and 512)."""
    rcnn = 'model.train_cfg.rcnn' + ('.{}' if stages > 1 else '')
    overrides = {'model.train_cfg.rpn_proposal.max_per_img': 30,
                 'model.test_cfg.rpn.max_per_img': 30}
    for stage in range(stages):
        overrides[rcnn.format(stage) + '.sampler.num'] = 16
    return tiny_config(name, **overrides)


def small_dino(name):
    """A DINO config made fast for a CPU step: 2 encoder/decoder layers, 50 queries."""
    return tiny_config(name, **{'model.num_queries': 50, 'model.encoder.num_layers': 2,
                                'model.decoder.num_layers': 2,
                                'model.dn_cfg.group_cfg.num_dn_queries': 10})


def demo_batch(coco_root, split='train', size=2):
    """A collated batch of the generated set, loaded through the demo config's pipeline."""
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(str(DEMO_CONFIG))
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    dataset_cfg = loader.dataset
    dataset_cfg.data_root = coco_root
    for transform in dataset_cfg.pipeline:
        if transform.type == 'Resize':
            transform.scale = (IMAGE_SIZE, IMAGE_SIZE)
    dataset = DATASETS.build(dataset_cfg)
    return pseudo_collate([dataset[i] for i in range(size)])


def train_step_then_predict(cfg, batch):
    torch.manual_seed(0)
    model = build_detector(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    model.train()
    log_vars = model.train_step(batch, optim_wrapper)
    model.eval()
    with torch.no_grad():
        predictions = model.val_step(batch)
    changed = {k for k, v in model.backbone.state_dict().items() if not torch.equal(v, before[k])}
    return model, {k: float(v) for k, v in log_vars.items()}, predictions, changed


def raw_outputs(model):
    """``mode='tensor'`` (what a FLOPs counter runs) on a random batch: mmdet's detectors need
    only ``img_shape`` and ``batch_input_shape`` in the data samples."""
    from mmdet.structures import DetDataSample
    size = (IMAGE_SIZE, IMAGE_SIZE)
    samples = [DetDataSample(metainfo=dict(img_shape=size, batch_input_shape=size))] * 2
    model.eval()
    with torch.no_grad():
        return model(torch.randn(2, 3, *size), samples, mode='tensor')


def check_predictions(predictions, with_masks):
    assert len(predictions) == 2
    for sample in predictions:
        pred = sample.pred_instances
        assert pred.bboxes.ndim == 2 and pred.bboxes.shape[1] == 4
        assert len(pred.scores) == len(pred.labels) == len(pred.bboxes)
        assert bool(((pred.scores >= 0) & (pred.scores <= 1)).all())
        assert bool((pred.bboxes >= -1).all() and (pred.bboxes <= IMAGE_SIZE + 1).all())
        if with_masks:
            assert tuple(pred.masks.shape) == (len(pred.bboxes), IMAGE_SIZE, IMAGE_SIZE)


# The generated data set -------------------------------------------------------------------------

def test_generator_writes_coco_instances_whose_polygons_are_the_drawn_shapes(coco_root):
    coco = COCO(annotation_file(coco_root, 'train'))
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(CLASSES)
    assert len(coco.getImgIds()) == 4
    annotations = coco.loadAnns(coco.getAnnIds())
    assert 4 <= len(annotations) <= 12
    for ann in annotations:
        info = coco.loadImgs(ann['image_id'])[0]
        image = cv2.imread(os.path.join(coco_root, 'train', info['file_name']))
        assert image.shape == (IMAGE_SIZE, IMAGE_SIZE, 3)
        x, y, w, h = ann['bbox']
        assert 0 <= x and 0 <= y and x + w <= IMAGE_SIZE and y + h <= IMAGE_SIZE and w * h > 0
        assert ann['iscrowd'] == 0 and 1 <= ann['category_id'] <= len(CLASSES)
        mask = coco.annToMask(ann).astype(bool)
        # the polygon's pixels are one flat fill colour (the background is textured), and
        # its area is the mask's
        pixels = image[mask].astype(int)
        flat = np.abs(pixels - np.median(pixels, axis=0)).max(axis=1) <= 2
        assert flat.mean() > 0.8
        assert ann['area'] == pytest.approx(mask.sum(), rel=0.2)
        ys, xs = np.nonzero(mask)
        assert abs(xs.min() - x) <= 1.5 and abs(xs.max() + 1 - (x + w)) <= 1.5
        assert abs(ys.min() - y) <= 1.5 and abs(ys.max() + 1 - (y + h)) <= 1.5


def test_generator_is_deterministic_and_keeps_a_complete_set(tmp_path):
    settings = dict(num_train=2, num_val=1, image_size=48, seed=3)
    first, second = generate(str(tmp_path / 'a'), **settings), generate(str(tmp_path / 'b'),
                                                                        **settings)
    for split in ('train', 'val'):
        with open(annotation_file(first, split)) as a, open(annotation_file(second, split)) as b:
            assert json.load(a) == json.load(b)
    assert (tmp_path / 'a' / 'train' / '000001.png').read_bytes() == \
        (tmp_path / 'b' / 'train' / '000001.png').read_bytes()
    stamp = os.path.getmtime(annotation_file(first, 'train'))
    os.utime(annotation_file(first, 'train'), (stamp - 100, stamp - 100))
    generate(first, **settings)  # same settings: kept
    assert os.path.getmtime(annotation_file(first, 'train')) == stamp - 100
    generate(first, **dict(settings, seed=4))  # other settings: rewritten
    assert os.path.getmtime(annotation_file(first, 'train')) > stamp - 100
    with open(annotation_file(first, 'train')) as a, open(annotation_file(second, 'train')) as b:
        assert json.load(a) != json.load(b)


@pytest.mark.parametrize('bad, word', [(dict(image_size=8), 'image_size'),
                                       (dict(num_train=0), 'num_train'),
                                       (dict(num_classes=7), 'num_classes'),
                                       (dict(max_objects=0), 'max_objects')])
def test_generator_refuses_bad_arguments(tmp_path, bad, word):
    with pytest.raises(ValueError, match=word):
        generate(str(tmp_path), **bad)


# CocoMetric on the generated set ---------------------------------------------------------------

def ground_truth_as_predictions(coco, box_shift=0.0):
    """Data samples predicting every validation object exactly (boxes moved right by
    ``box_shift`` of their width)."""
    samples = []
    for image_id in coco.getImgIds():
        info = coco.loadImgs(image_id)[0]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        boxes = torch.tensor([[x + box_shift * w, y, x + w + box_shift * w, y + h]
                              for x, y, w, h in (a['bbox'] for a in anns)])
        masks = torch.from_numpy(np.stack([coco.annToMask(a) for a in anns])).bool()
        samples.append(dict(img_id=image_id, ori_shape=(info['height'], info['width']),
                            pred_instances=dict(
                                bboxes=boxes, scores=torch.ones(len(anns)), masks=masks,
                                labels=torch.tensor([a['category_id'] - 1 for a in anns]))))
    return samples


def coco_metrics(coco_root, samples):
    from mmdet.evaluation import CocoMetric
    metric = CocoMetric(ann_file=annotation_file(coco_root, 'val'), metric=['bbox', 'segm'])
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_coco_metric_gives_1_for_ground_truth_and_less_for_shifted_boxes(coco_root):
    coco = COCO(annotation_file(coco_root, 'val'))
    exact = coco_metrics(coco_root, ground_truth_as_predictions(coco))
    assert exact['coco/bbox_mAP'] == pytest.approx(1.0)
    assert exact['coco/segm_mAP'] == pytest.approx(1.0)
    shifted = coco_metrics(coco_root, ground_truth_as_predictions(coco, box_shift=0.25))
    # IoU of a box shifted by a quarter of its width is 0.6: matched at IoU 0.5..0.6 only
    assert 0.1 < shifted['coco/bbox_mAP'] < 0.35
    assert shifted['coco/bbox_mAP_50'] == pytest.approx(1.0)
    assert shifted['coco/segm_mAP'] == pytest.approx(1.0)


# The demo config through mmengine's Runner (what tools/train.py and tools/test.py run) ----------

def test_demo_config_trains_evaluates_and_saves_through_the_runner(coco_root, tmp_path):
    from mmengine.runner import Runner
    cfg = Config.fromfile(str(DEMO_CONFIG))
    options = {'work_dir': str(tmp_path), 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
               'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
               'val_evaluator.ann_file': annotation_file(coco_root, 'val'),
               'test_evaluator.ann_file': annotation_file(coco_root, 'val')}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options.update({f'{loader}.num_workers': 0, f'{loader}.batch_size': 2,
                        f'{loader}.dataset.data_root': coco_root})
    cfg.merge_from_dict(options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2  # 4 training images, batches of 2
    assert os.path.isfile(tmp_path / 'epoch_1.pth')
    metrics = runner.test()
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP'):
        assert 0 <= metrics[key] <= 1

    # the launcher on the trained checkpoint, with mmdet's visualization hook drawing
    tested = subprocess.run(
        [sys.executable, 'tools/test.py', str(DEMO_CONFIG), str(tmp_path / 'epoch_1.pth'),
         '--work-dir', str(tmp_path / 'test'), '--show-dir', str(tmp_path / 'pictures'),
         '--cfg-options', *(f'{key}={value}' for key, value in options.items()
                            if key != 'work_dir')],
        cwd=ROOT, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stderr[-3000:]
    with open(tmp_path / 'test' / 'test_metrics.json') as f:
        assert json.load(f)['metrics']['coco/bbox_mAP'] == metrics['coco/bbox_mAP']
    assert len(list((tmp_path / 'pictures').glob('*.png'))) == 3  # the validation images


def test_bf16_autocast_and_gradient_checkpointing_are_config_switches(coco_root):
    """What ``tools/train.py --amp`` sets on a CPU (BF16AutocastOptimWrapper around backbone
    and neck, whose outputs return to float32 for mmcv's float-only CPU NMS and RoIAlign) and
    ``model.backbone.with_cp=True``: Mask R-CNN trains a step with float32 weights, every
    InternImage layer checkpointed."""
    cfg = few_rois('coco/mask_rcnn_internimage_t_fpn_1x_coco.py')
    cfg.merge_from_dict({'optim_wrapper.type': 'BF16AutocastOptimWrapper',
                         'optim_wrapper.autocast_modules': ['backbone', 'neck'],
                         'model.backbone.with_cp': True})
    batch = demo_batch(coco_root)
    model, log_vars, _, changed = train_step_then_predict(cfg, batch)
    assert all(np.isfinite(value) for value in log_vars.values()) and log_vars['loss'] > 0
    layers = [m for m in model.backbone.modules() if isinstance(m, InternImageLayer)]
    assert layers and all(layer.with_cp for layer in layers)
    assert 'levels.0.blocks.0.dcn.offset.weight' in changed
    assert all(p.dtype == torch.float32 for p in model.parameters())
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    inputs = model.data_preprocessor(batch, training=True)['inputs']
    inner = []
    model.backbone.levels[0].blocks[0].mlp.fc1.register_forward_hook(
        lambda module, args, output: inner.append(output.dtype))
    with optim_wrapper.optim_context(model):
        features = model.neck(model.backbone(inputs))
    assert inner == [torch.bfloat16]  # the backbone computed in bfloat16
    assert all(level.dtype == torch.float32 for level in features)  # the heads get float32


def test_mmdet_own_train_and_test_scripts_run_the_demo_config(coco_root, tmp_path):
    """mmdet's packaged tools/train.py and tools/test.py (installed under mmdet/.mim) take our
    config as it is: custom_imports brings in the backbone."""
    import mmdet
    mmdet_tools = Path(mmdet.__file__).parent / '.mim' / 'tools'
    options = demo_cli_options(coco_root, batch_size=2)
    trained = subprocess.run([sys.executable, str(mmdet_tools / 'train.py'), str(DEMO_CONFIG),
                              '--work-dir', str(tmp_path), '--cfg-options', *options],
                             cwd=ROOT, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert (tmp_path / 'epoch_1.pth').is_file()
    tested = subprocess.run([sys.executable, str(mmdet_tools / 'test.py'), str(DEMO_CONFIG),
                             str(tmp_path / 'epoch_1.pth'), '--work-dir', str(tmp_path / 'test'),
                             '--cfg-options', *options], cwd=ROOT, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert 'coco/bbox_mAP' in tested.stdout + tested.stderr


# One training step and one inference step of each detector --------------------------------------

def test_mask_rcnn_trains_and_predicts_boxes_and_masks(coco_root):
    cfg = few_rois('coco/mask_rcnn_internimage_t_fpn_1x_coco.py')
    batch = demo_batch(coco_root)
    model, log_vars, predictions, changed = train_step_then_predict(cfg, batch)
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'):
        assert np.isfinite(log_vars[key]) and log_vars[key] > 0
    assert 'levels.0.blocks.0.dcn.offset.weight' in changed
    assert 'patch_embed.conv1.weight' in changed
    check_predictions(predictions, with_masks=True)
    (roi_outputs,) = raw_outputs(model)
    assert roi_outputs[0].shape[1] == 81  # class scores of mmdet's 80 classes + background


def test_cascade_mask_rcnn_trains_and_predicts(coco_root):
    cfg = few_rois('coco/cascade_internimage_l_fpn_3x_coco.py', stages=3)
    _, log_vars, predictions, changed = train_step_then_predict(cfg, demo_batch(coco_root))
    for stage in range(3):
        assert np.isfinite(log_vars[f's{stage}.loss_bbox'])
        assert np.isfinite(log_vars[f's{stage}.loss_mask'])
    assert 'levels.3.blocks.0.mlp.fc1.weight' in changed
    check_predictions(predictions, with_masks=True)


def test_dino_trains_and_predicts(coco_root):
    cfg = small_dino('coco/dino_4scale_internimage_t_1x_coco.py')
    model, log_vars, predictions, changed = train_step_then_predict(cfg, demo_batch(coco_root))
    for key in ('loss_cls', 'loss_bbox', 'loss_iou', 'enc_loss_cls', 'dn_loss_cls',
                'd0.loss_cls'):
        assert np.isfinite(log_vars[key]), key
    assert 'levels.1.blocks.0.dcn.offset.weight' in changed
    check_predictions(predictions, with_masks=False)
    assert all(len(p.pred_instances.bboxes) == cfg.model.test_cfg.max_per_img == 100
               for p in predictions)
    class_scores, boxes = raw_outputs(model)
    assert class_scores.shape == (2, 2, 50, 80)  # decoder layers, images, queries, classes


def test_cb_dino_supervises_both_trunks(coco_root):
    cfg = small_dino('coco/dino_4scale_cbinternimage_h_o365_coco.py')
    cfg.model.backbone.level2_post_norm_block_ids = [0]  # H's settings otherwise
    batch = demo_batch(coco_root)
    model, log_vars, predictions, changed = train_step_then_predict(cfg, batch)
    assert np.isfinite(log_vars['assist.loss_cls']) and np.isfinite(log_vars['loss_cls'])
    # the zero-initialised composite scales moved: the lead received the assisting features
    assert {f'cb_modules.1.gamma{i}' for i in range(4)} <= changed
    check_predictions(predictions, with_masks=False)
    assert raw_outputs(model)[0].shape == (2, 2, 50, 80)  # the lead branch only

    model.train()
    data = model.data_preprocessor(batch, training=True)
    losses = {}
    for weight in (1.0, 0.5):
        model.assist_loss_weight = weight
        torch.manual_seed(1)  # the same denoising queries for both
        losses[weight] = model(**data, mode='loss')
    for key in ('assist.loss_cls', 'assist.d0.loss_bbox', 'assist.dn_loss_iou'):
        torch.testing.assert_close(losses[0.5][key], 0.5 * losses[1.0][key])
    torch.testing.assert_close(losses[0.5]['loss_cls'], losses[1.0]['loss_cls'])


def test_config_layer_decay_reaches_the_optimizer_and_offset_lr_scale_acts_as_published():
    """Cascade L 3x: lr 2e-4, decay 0.90, offset_lr_scale 0.01. With depths (1, 1, 1, 1) there
    are 6 layer ids; block 0 of level 0 is id 1, so its scale is 0.9^4. The published rule's
    offset_lr_scale scales `sampling_offsets`/`reference_points`, which a Cascade R-CNN lacks:
    the DCNv3 offset/mask projections train at their layer's lr, as published; the correction
    dcn_offset_lr_scale=0.01 puts them at 0.01 of it."""
    cfg = tiny_config('coco/cascade_internimage_l_fpn_3x_coco.py')
    model = build_detector(cfg)
    block = 'backbone.levels.0.blocks.0.dcn.'
    params = dict(model.named_parameters())
    for dcn_scale in (None, 0.01):
        if dcn_scale is not None:
            cfg.optim_wrapper.paramwise_cfg.dcn_offset_lr_scale = dcn_scale
        optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
        lr_of = {id(p): group['lr'] for group in optimizer.param_groups
                 for p in group['params']}
        offset_lr = 2e-4 * 0.9 ** 4 * (dcn_scale or 1)
        assert lr_of[id(params[block + 'input_proj.weight'])] == pytest.approx(2e-4 * 0.9 ** 4)
        assert lr_of[id(params[block + 'offset.weight'])] == pytest.approx(offset_lr)
        assert lr_of[id(params[block + 'mask.weight'])] == pytest.approx(offset_lr)
        assert lr_of[id(params['backbone.patch_embed.conv1.weight'])] == \
            pytest.approx(2e-4 * 0.9 ** 5)
        assert lr_of[id(params['roi_head.bbox_head.0.fc_cls.weight'])] == pytest.approx(2e-4)


# Checkpoints and the composite backbone ----------------------------------------------------------

def classification_checkpoint(path):
    """A published-layout classification checkpoint ({'model': ..., head included}) of a tiny
    classifier with recognisable weights; returns its state dict."""
    torch.manual_seed(0)
    source = InternImageClassifier(**TINY_TRUNK, num_classes=5)
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.25)
    state_dict = source.state_dict()
    torch.save({'model': state_dict, 'epoch': 299, 'max_accuracy': 83.5}, path)
    return state_dict


def test_classification_checkpoint_loads_into_a_detector_through_init_cfg(tmp_path):
    weights = classification_checkpoint(tmp_path / 'internimage_tiny_1k.pth')
    cfg = tiny_config('coco/mask_rcnn_internimage_b_fpn_1x_coco.py')
    cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                       checkpoint=str(tmp_path / 'internimage_tiny_1k.pth'))
    cfg.model.backbone.update(layer_scale=None, post_norm=False)  # the classifier's settings
    backbone = build_detector(cfg).backbone.state_dict()
    assert set(backbone) == {k for k in weights if not k.startswith(('head.', 'conv_head.'))}
    for key, value in backbone.items():
        torch.testing.assert_close(value, weights[key], msg=key)


def test_composite_backbone_starts_as_the_plain_lead_and_loads_both_trunks(tmp_path):
    weights = classification_checkpoint(tmp_path / 'internimage_tiny_1k.pth')
    backbone = CBInternImage(**TINY_TRUNK, out_indices=(1, 2, 3), init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'internimage_tiny_1k.pth')))
    backbone.init_weights()
    assist, lead = backbone.cb_modules
    assert not hasattr(lead, 'patch_embed')
    for key, value in assist.state_dict().items():
        torch.testing.assert_close(value, weights[key], msg=key)
    for key, value in lead.state_dict().items():
        expected = torch.zeros_like(value) if key.startswith('gamma') else weights[key]
        torch.testing.assert_close(value, expected, msg=key)

    backbone.eval()
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assist_maps, lead_maps = backbone(image)
        # zero composite scales: both trunks hold the same weights, so the same maps
        for a, b in zip(assist_maps, lead_maps):
            torch.testing.assert_close(a, b)
        assert [m.shape[1] for m in lead_maps] == list(backbone.out_channels) == [32, 64, 128]
        for i in range(4):
            getattr(lead, f'gamma{i}').fill_(0.5)
        _, mixed = backbone(image)
    assert not torch.allclose(mixed[0], lead_maps[0])

    composite = tmp_path / 'cb_detector.pth'
    torch.save({'state_dict': {'backbone.' + k: v for k, v in backbone.state_dict().items()},
                'meta': {}}, composite)
    reloaded = CBInternImage(**TINY_TRUNK, init_cfg=dict(type='Pretrained',
                                                          checkpoint=str(composite)))
    reloaded.init_weights()
    torch.testing.assert_close(reloaded.cb_modules[1].gamma2, torch.full((64,), 0.5))


def test_composite_backbone_has_the_backbone_interface():
    """out_channels/out_strides as the plain backbone's; frozen_stages freezes the stem and the
    first levels of both trunks (and keeps them in eval mode); norm_eval keeps BatchNorm in
    eval mode."""
    plain = InternImage(**TINY_TRUNK, out_indices=(1, 2, 3))
    backbone = CBInternImage(**TINY_TRUNK, out_indices=(1, 2, 3), frozen_stages=2)
    assert backbone.out_channels == plain.out_channels and backbone.out_strides == (8, 16, 32)
    assist, lead = backbone.cb_modules
    frozen = [assist.patch_embed, *assist.levels[:2], *lead.levels[:2]]
    assert not any(p.requires_grad for m in frozen for p in m.parameters())
    trainable = [*assist.levels[2:], *lead.levels[2:], backbone.cb_linears]
    assert all(p.requires_grad for m in trainable for p in m.parameters())
    backbone.train()
    assert not any(m.training for m in frozen) and lead.levels[2].training
    bn = CBInternImage(**dict(TINY_TRUNK, norm_layer='BN'), norm_eval=True).train()
    norms = [m for m in bn.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    with pytest.raises(ValueError, match='frozen_stages'):
        CBInternImage(**TINY_TRUNK, frozen_stages=5)


def test_composite_backbone_refuses_bad_input():
    with pytest.raises(ValueError, match='out_indices'):
        CBInternImage(**TINY_TRUNK, out_indices=(1, 4))
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        CBInternImage(**TINY_TRUNK)(torch.randn(1, 1, 32, 32))


# The image demo -------------------------------------------------------------------------------

def test_image_demo_draws_the_detections(coco_root, tmp_path):
    from detection.visualize import run_image_demo
    cfg = tiny_config(DEMO_CONFIG)
    config_path = tmp_path / 'tiny_demo.py'
    cfg.dump(str(config_path))
    model = build_detector(cfg)
    checkpoint = tmp_path / 'tiny_demo.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': CLASSES}}}, checkpoint)
    image = os.path.join(coco_root, 'val', '000001.png')
    out_file = tmp_path / 'picture.png'
    result = run_image_demo(str(config_path), str(checkpoint), image, str(out_file),
                            score_thr=0.0)
    assert len(result.pred_instances) > 0  # untrained, but 4-class scores pass 0
    picture, original = cv2.imread(str(out_file)), cv2.imread(image)
    assert picture.shape == original.shape
    assert (np.abs(picture.astype(int) - original).sum(axis=2) > 30).mean() > 0.01
    with pytest.raises(ValueError, match='score_thr'):
        run_image_demo(str(config_path), str(checkpoint), image, str(out_file), score_thr=2)


# FlashInternImage (OpenGVLab/DCNv4): its Mask R-CNN with the FPN_vitdet neck and its DINO train
# a step through mmdet on the tiny FlashInternImage (DCNv4 blocks) and predict.
def flash_tiny(cfg):
    """A tiny config's backbone as flash_internimage_test (its family's arch key 'test', whose
    core is DCNv4), the config's other backbone options kept."""
    cfg.model.backbone.pop('core_op')
    cfg.model.backbone.arch = 'test'
    return cfg

def test_flash_internimage_mask_rcnn_trains_and_predicts(coco_root):
    cfg = flash_tiny(few_rois('coco/mask_rcnn_flash_internimage_b_fpn_3x_coco.py'))
    model, log_vars, predictions, changed = train_step_then_predict(cfg, demo_batch(coco_root))
    assert type(model.backbone).__name__ == 'FlashInternImage'
    assert type(model.neck).__name__ == 'FPNViTDet'
    for key in ('loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'):
        assert np.isfinite(log_vars[key]) and log_vars[key] > 0
    assert 'levels.0.blocks.0.dcn.offset_mask.weight' in changed
    check_predictions(predictions, with_masks=True)


def test_flash_internimage_dino_trains_and_predicts(coco_root):
    cfg = flash_tiny(small_dino('coco/dino_4scale_flash_internimage_t_1x_coco.py'))
    model, log_vars, predictions, changed = train_step_then_predict(cfg, demo_batch(coco_root))
    assert np.isfinite(log_vars['loss_cls']) and np.isfinite(log_vars['dn_loss_cls'])
    assert 'levels.1.blocks.0.dcn.offset_mask.weight' in changed
    check_predictions(predictions, with_masks=False)
    assert all(len(p.pred_instances.bboxes) == 300 for p in predictions)
