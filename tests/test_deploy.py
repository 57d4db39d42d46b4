"""Whole-model ONNX export (internimage/deploy): the exported detectors and segmentors, run in
ONNX Runtime on the image as loaded, give mmdet's and mmseg's own results and metrics on the
generated demo data (Mask R-CNN, DINO, UperNet, Mask2Former; tiny models), at other batch and
image sizes than they were traced with; the preprocessing's sizes are mmcv's; the parts written
for ONNX equal what they replace; what cannot be exported is refused by name."""
import copy
import json
from pathlib import Path

import mmcv
import numpy as np
import onnxruntime
import pytest
import torch
from mmengine.registry import DefaultScope

from internimage.demo_data import detection as detection_data
from internimage.demo_data import segmentation as segmentation_data
from internimage.deploy.export import export_model
from internimage.deploy.graphs import DynamicAdaptiveAvgPool2d
from internimage.deploy.preprocess import Resize, ResizeToMultiple, resize_steps
from internimage.engine import load_config
from internimage.engine.errors import UsageError
from internimage.models.variants import arch_options, level_channels
from dcnv3_cases import perturbed

DETECTION_DEMO = 'configs/detection/demo/mask_rcnn_internimage_demo_shapes.py'
DINO = 'configs/detection/coco/dino_4scale_internimage_t_1x_coco.py'
UPERNET_DEMO = 'configs/segmentation/demo/upernet_internimage_demo_shapes.py'
MASK2FORMER_DEMO = 'configs/segmentation/demo/mask2former_internimage_demo_shapes.py'
TINY_BACKBONE = dict(arch_options('test'), core_op='DCNv3', drop_path_rate=0.0, with_cp=False,
                     init_cfg=None)


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return detection_data.generate(str(tmp_path_factory.mktemp('coco')), num_train=1,
                                   num_val=4, image_size=160, seed=0, max_objects=3)


@pytest.fixture(scope='module')
def ade_root(tmp_path_factory):
    return segmentation_data.generate(str(tmp_path_factory.mktemp('ade')), num_train=1,
                                      num_val=3, image_size=128, seed=0, max_objects=4)


def build(cfg):
    from mmengine.registry import MODELS
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(copy.deepcopy(cfg.model))


def random_checkpoint(cfg, path, seed=0):
    """The config's model with seeded random weights, perturbed, saved in our layout. (The
    detector's scores on random weights lie close together: seed 3 of 0-4 gives a detection
    more or less than mmdet's from a last-digit difference, the others all of mmdet's.)"""
    torch.manual_seed(seed)
    model = perturbed(build(cfg), scale=0.05, seed=seed)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


def run(path, images):
    """ONNX Runtime on a list of HxWx3 uint8 images of one size, as one batch."""
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    batch = np.stack([image.transpose(2, 0, 1) for image in images]).astype(np.float32)
    return session.run(None, {'image': batch})


def detections(outputs, index):
    """The valid detections of image ``index`` (padding has label -1 or score 0)."""
    boxes, scores, labels = outputs[0][index], outputs[1][index], outputs[2][index]
    keep = (labels >= 0) & (scores > 0)
    found = dict(bboxes=boxes[keep], scores=scores[keep], labels=labels[keep])
    if len(outputs) > 3:
        found['masks'] = outputs[3][index][keep]
    return found


def assert_same_detections(found, expected):
    assert len(found['scores']) == len(expected.scores) > 0
    np.testing.assert_allclose(found['scores'], expected.scores.numpy(), atol=1e-4)
    np.testing.assert_array_equal(found['labels'], expected.labels.numpy())
    np.testing.assert_allclose(found['bboxes'], expected.bboxes.numpy(), atol=0.01)
    if 'masks' in found:
        assert (found['masks'] != expected.masks.numpy()).mean() < 1e-3


# The pieces written for ONNX -------------------------------------------------------------------

@pytest.mark.parametrize('shape', [(2, 3, 5, 7), (1, 4, 13, 6), (1, 2, 2, 9), (1, 1, 1, 1)])
@pytest.mark.parametrize('bins', [1, 2, 3, 6])
def test_dynamic_adaptive_pooling_equals_torch(shape, bins):
    x = torch.randn(*shape)
    torch.testing.assert_close(DynamicAdaptiveAvgPool2d(bins)(x),
                               torch.nn.functional.adaptive_avg_pool2d(x, bins))


@pytest.mark.parametrize('size', [(300, 420), (500, 333), (800, 1333), (1, 7), (1000, 10)])
def test_resize_sizes_are_mmcv_s(size):
    height, width = size
    image = np.zeros((height, width, 3), np.uint8)
    for scale in ((1333, 800), (2048, 512), (160, 160)):
        expected = mmcv.imrescale(image, scale).shape[:2]
        found = Resize(scale, keep_ratio=True).output_size(torch.tensor(size, dtype=torch.float))
        assert tuple(int(v) for v in found) == expected
    found = ResizeToMultiple(32).output_size(torch.tensor(size, dtype=torch.float))
    assert tuple(int(v) for v in found) == tuple(-(-s // 32) * 32 for s in size)


def test_pipeline_steps_that_cannot_be_exported_are_named():
    steps = resize_steps([dict(type='LoadImageFromFile'), dict(type='Resize', scale=(64, 32)),
                          dict(type='ResizeToMultiple', size_divisor=16),
                          dict(type='PackSegInputs')])
    assert steps == [Resize((64, 32), False), ResizeToMultiple(16)]
    with pytest.raises(ValueError, match="'RandomCrop'"):
        resize_steps([dict(type='RandomCrop', crop_size=(8, 8))])
    with pytest.raises(ValueError, match="'scale_factor': 0.5"):
        resize_steps([dict(type='Resize', scale_factor=0.5)])


# Segmentation ------------------------------------------------------------------------------------

def segmentation_config(path, ade_root):
    cfg = load_config(path)
    cfg.test_dataloader.dataset.data_root = ade_root
    return cfg


@pytest.mark.parametrize('config', [UPERNET_DEMO, MASK2FORMER_DEMO],
                         ids=['upernet', 'mask2former'])
def test_segmentor_gives_mmseg_s_label_maps_and_miou(config, ade_root, tmp_path):
    from mmseg.apis import init_model, inference_model
    from mmseg.evaluation import IoUMetric
    cfg = segmentation_config(config, ade_root)
    checkpoint = random_checkpoint(cfg, tmp_path / 'model.pth')
    out = tmp_path / 'model.onnx'
    _, metadata = export_model(cfg, checkpoint, str(out), example_images=torch.randint(
        0, 256, (2, 3, 96, 112), generator=torch.Generator().manual_seed(0)).float())
    assert metadata['task'] == 'segmentation' and metadata['outputs'] == ['label_map']
    assert metadata['classes'][0] == 'background' and len(metadata['classes']) == 5
    model = init_model(cfg, checkpoint, device='cpu')
    images = [mmcv.imread(path) for path in sorted(
        (Path(ade_root) / 'images' / 'validation').glob('*.jpg'))]
    found = run(out, images)[0]  # one batch of three, traced with two
    expected = [inference_model(model, image).pred_sem_seg.data[0].numpy() for image in images]
    assert found.shape == (3, 128, 128)
    for label_map, reference in zip(found, expected):
        assert (label_map != reference).mean() < 1e-3  # near-equal scores of random weights
    assert len(np.unique(found)) > 1  # not a constant map
    # another size: the resize runs in the graph (bilinear on floats, mmcv's on uint8)
    small = mmcv.imresize(images[0], (150, 100))
    label_map = run(out, [small])[0][0]
    assert label_map.shape == (100, 150)
    assert (label_map != inference_model(model, small).pred_sem_seg.data[0].numpy()).mean() < 0.01
    # the same mIoU as mmseg's predictions on the validation labels
    labels = [mmcv.imread(path, flag='unchanged').astype(np.int64) - 1 for path in sorted(
        (Path(ade_root) / 'annotations' / 'validation').glob('*.png'))]
    scores = []
    for predictions in (found, expected):
        metric = IoUMetric()
        metric.dataset_meta = dict(classes=metadata['classes'][1:])
        for prediction, label in zip(predictions, labels):
            label[label < 0] = 255
            metric.process([], [dict(
                pred_sem_seg=dict(data=torch.from_numpy(np.asarray(prediction))[None]),
                gt_sem_seg=dict(data=torch.from_numpy(label)[None]))])
        scores.append(metric.compute_metrics(metric.results)['mIoU'])
    assert abs(scores[0] - scores[1]) < 0.05, scores


def test_sliding_window_and_tta_configs_are_refused(tmp_path):
    cfg = load_config(UPERNET_DEMO)
    cfg.model.test_cfg = dict(mode='slide', crop_size=(64, 64), stride=(32, 32))
    checkpoint = random_checkpoint(cfg, tmp_path / 'model.pth')
    with pytest.raises(ValueError, match="test_cfg.mode='slide' cannot be exported"):
        export_model(cfg, checkpoint, str(tmp_path / 'x.onnx'))
    cfg = load_config(UPERNET_DEMO)
    cfg.model.data_preprocessor.test_cfg = dict(size_divisor=32)
    with pytest.raises(ValueError, match='data_preprocessor.test_cfg'):
        export_model(cfg, checkpoint, str(tmp_path / 'x.onnx'))


def test_a_checkpoint_that_does_not_fit_is_refused(tmp_path):
    cfg = load_config(UPERNET_DEMO)
    model = build(cfg)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith('decode_head')}
    torch.save({'state_dict': state, 'meta': {}}, tmp_path / 'partial.pth')
    with pytest.raises(UsageError, match='does not fit the model.*missing keys'):
        export_model(cfg, str(tmp_path / 'partial.pth'), str(tmp_path / 'x.onnx'))


# Detection -------------------------------------------------------------------------------------

def detection_config(path, coco_root, tiny=False):
    cfg = load_config(path)
    cfg.test_dataloader.dataset.data_root = coco_root
    if tiny:
        cfg.model.backbone.update(TINY_BACKBONE)
        cfg.model.neck.in_channels = level_channels('test', cfg.model.backbone.get(
            'out_indices', (0, 1, 2, 3)))
    return cfg


def test_mask_rcnn_gives_mmdet_s_detections_masks_and_map(coco_root, tmp_path):
    from mmdet.apis import inference_detector, init_detector
    from mmdet.evaluation import CocoMetric
    cfg = detection_config(DETECTION_DEMO, coco_root)
    checkpoint = random_checkpoint(cfg, tmp_path / 'model.pth')
    out = tmp_path / 'model.onnx'
    _, metadata = export_model(cfg, checkpoint, str(out))
    assert metadata['task'] == 'instance_segmentation'
    assert metadata['classes'] == ['circle', 'square', 'triangle', 'star']
    model = init_detector(cfg, checkpoint, device='cpu')
    annotations = f'{coco_root}/annotations/instances_val.json'
    with open(annotations) as file:
        entries = json.load(file)['images']
    images = [mmcv.imread(f'{coco_root}/val/{entry["file_name"]}') for entry in entries]
    outputs = run(out, images)  # a batch of four, traced with two
    metrics = []
    for source in ('onnx', 'mmdet'):
        metric = CocoMetric(ann_file=annotations, metric=['bbox', 'segm'])
        metric.dataset_meta = dict(classes=metadata['classes'])
        for index, (entry, image) in enumerate(zip(entries, images)):
            expected = inference_detector(model, image).pred_instances
            found = detections(outputs, index)
            if source == 'onnx':
                assert_same_detections(found, expected)
                predicted = {k: torch.from_numpy(v) for k, v in found.items()}
            else:
                predicted = dict(bboxes=expected.bboxes, scores=expected.scores,
                                 labels=expected.labels, masks=expected.masks)
            metric.process([], [dict(img_id=entry['id'], ori_shape=image.shape[:2],
                                     pred_instances=predicted)])
        metrics.append(metric.compute_metrics(metric.results))
    assert metrics[0] == metrics[1]
    # another image size than traced: the keep-ratio resize runs in the graph
    small = mmcv.imresize(images[0], (120, 90))
    found = detections(run(out, [small]), 0)
    assert found['masks'].shape[1:] == (90, 120)
    expected = inference_detector(model, small).pred_instances
    assert abs(len(found['scores']) - len(expected.scores)) <= 2
    np.testing.assert_allclose(found['scores'][:3], expected.scores[:3].numpy(), atol=0.02)


def test_dino_gives_mmdet_s_detections_at_any_batch(coco_root, tmp_path):
    from mmdet.apis import inference_detector, init_detector
    cfg = detection_config(DINO, coco_root, tiny=True)
    cfg.merge_from_dict({'model.num_queries': 30, 'model.encoder.num_layers': 1,
                         'model.decoder.num_layers': 2, 'model.test_cfg.max_per_img': 20,
                         'test_dataloader.dataset.pipeline.1.scale': (160, 160)})
    cfg.test_pipeline = cfg.test_dataloader.dataset.pipeline
    checkpoint = random_checkpoint(cfg, tmp_path / 'model.pth')
    out = tmp_path / 'model.onnx'
    _, metadata = export_model(cfg, checkpoint, str(out))
    assert metadata['task'] == 'detection' and len(metadata['classes']) == 80
    model = init_detector(cfg, checkpoint, device='cpu')
    images = [mmcv.imread(f'{coco_root}/val/{index:06d}.png') for index in (1, 2, 3)]
    outputs = run(out, images)
    assert outputs[0].shape == (3, 20, 4)
    for index, image in enumerate(images):
        assert_same_detections(detections(outputs, index),
                               inference_detector(model, image).pred_instances)


def test_cascade_with_class_specific_stages_is_refused_by_name(coco_root, tmp_path):
    cfg = detection_config('configs/detection/coco/cascade_internimage_l_fpn_1x_coco.py',
                           coco_root, tiny=True)
    checkpoint = random_checkpoint(cfg, tmp_path / 'model.pth')
    with pytest.raises(UsageError, match='cascade R-CNN heads with class-specific regression'):
        export_model(cfg, checkpoint, str(tmp_path / 'x.onnx'))
