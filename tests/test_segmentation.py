"""Segmentation on mmseg 1.2 with real mmseg/mmengine objects on tiny data and models: the
generated ADE20K-format set, its dataset class, a training step and whole / sliding-window
inference of UperNet and Mask2Former on a tiny InternImage, multi-scale testing and pictures
through tools/test.py, IoUMetric and the colour-overlay demo."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.evaluation import IoUMetric
from mmseg.registry import DATASETS, MODELS

from internimage.demo_data import segmentation as demo_data
from internimage.demo_data.segmentation import BACKGROUND, CLASSES, UNLABELED, label_map
from internimage.models.layers import InternImageLayer
from internimage.models.variants import arch_options, level_channels
from segmentation import ShapesSegDataset
from segmentation.shapes_dataset import PALETTE
from segmentation.visualize import run_image_demo

ROOT = Path(__file__).resolve().parents[1]
UPERNET_DEMO = 'configs/segmentation/demo/upernet_internimage_demo_shapes.py'
MASK2FORMER_DEMO = 'configs/segmentation/demo/mask2former_internimage_demo_shapes.py'
IMAGE_SIZE = 128  # the demo configs' size: test images are not resized
# the brief's tiny backbone, on the compiled op: the unpublished test variant's widths and
# depths over a config's backbone, whose variant's other options stay
TINY_BACKBONE = dict(arch_options('test'), drop_path_rate=0.0, init_cfg=None)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return demo_data.generate(str(tmp_path_factory.mktemp('ade_shapes')), num_train=4,
                                 num_val=4, image_size=IMAGE_SIZE, seed=1)


def tiny_config(path, data_root, work_dir):
    """A demo config on the tiny backbone and the test's data, one iteration long."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    channels = level_channels('test')
    head = dict(in_channels=channels)
    if cfg.model.decode_head.type == 'UPerHead':
        head.update(channels=16)
        cfg.model.auxiliary_head.update(in_channels=channels[2], channels=8)
    else:
        head.update(num_queries=5)
    cfg.model.backbone.update(TINY_BACKBONE)
    cfg.model.decode_head.update(head)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = data_root
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    cfg.default_hooks.checkpoint.interval = 1
    cfg.work_dir = str(work_dir)
    return cfg


def build_model(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def first_batch(cfg, loader='train_dataloader', size=2):
    dataset = DATASETS.build(cfg[loader].dataset)
    return pseudo_collate([dataset[i] for i in range(size)])


def read_labels(data_root, split, index):
    return cv2.imread(os.path.join(data_root, 'annotations', split, f'{index:06d}.png'),
                      cv2.IMREAD_UNCHANGED)


# ---------------------------------------------------------------- data set and dataset class

def test_generated_set_has_the_ade_layout_and_labels(data_root):
    for split, count in (('training', 4), ('validation', 4)):
        images = sorted(os.listdir(os.path.join(data_root, 'images', split)))
        labels = sorted(os.listdir(os.path.join(data_root, 'annotations', split)))
        assert images == [f'{i:06d}.jpg' for i in range(count)]
        assert labels == [f'{i:06d}.png' for i in range(count)]
    labels = np.stack([read_labels(data_root, 'training', i) for i in range(4)])
    assert labels.shape == (4, IMAGE_SIZE, IMAGE_SIZE) and labels.dtype == np.uint8
    values = set(np.unique(labels).tolist())
    assert {UNLABELED, BACKGROUND} <= values <= set(range(len(CLASSES) + 1))
    assert len(values) >= 3  # at least one shape kind


def test_label_map_fills_shapes_and_leaves_their_outline_unlabeled():
    square = np.array([[8, 8], [24, 8], [24, 24], [8, 24]], np.float32)  # axis-aligned
    labels = label_map(32, 32, [(1, square)])  # kind 1 ('square') is written as 3
    assert labels[16, 16] == 3
    assert labels[2, 2] == BACKGROUND and labels[30, 16] == BACKGROUND
    assert labels[8, 16] == UNLABELED and labels[16, 24] == UNLABELED


def test_generation_is_deterministic_idempotent_and_keeps_validation(tmp_path, data_root):
    again = demo_data.generate(str(tmp_path / 'a'), num_train=4, num_val=4,
                                  image_size=IMAGE_SIZE, seed=1)
    for split in ('training', 'validation'):
        for i in range(4):
            np.testing.assert_array_equal(read_labels(again, split, i),
                                          read_labels(data_root, split, i))
    stamp = os.path.join(again, 'generated.json')
    mtime = os.path.getmtime(stamp)
    demo_data.generate(again, num_train=4, num_val=4, image_size=IMAGE_SIZE, seed=1)
    assert os.path.getmtime(stamp) == mtime  # complete: kept, not rewritten
    more = demo_data.generate(str(tmp_path / 'b'), num_train=6, num_val=4,
                                 image_size=IMAGE_SIZE, seed=1)
    np.testing.assert_array_equal(read_labels(more, 'validation', 3),
                                  read_labels(data_root, 'validation', 3))
    other = demo_data.generate(str(tmp_path / 'c'), num_train=4, num_val=4,
                                  image_size=IMAGE_SIZE, seed=2)
    assert not np.array_equal(read_labels(other, 'training', 0),
                              read_labels(data_root, 'training', 0))


@pytest.mark.parametrize('arguments, message', [
    (dict(num_train=0), 'num_train'), (dict(image_size=16), 'image_size'),
    (dict(max_objects=0), 'max_objects')])
def test_generation_refuses_bad_arguments(tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        demo_data.generate(str(tmp_path), **arguments)


def test_dataset_reduces_zero_label_to_ignore(data_root):
    init_default_scope('mmseg')
    dataset = DATASETS.build(dict(
        type='ShapesSegDataset', data_root=data_root,
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')]))
    assert isinstance(dataset, ShapesSegDataset) and len(dataset) == 4
    assert dataset.metainfo['classes'] == CLASSES and len(PALETTE) == len(CLASSES)
    for i in range(4):
        loaded = dataset[i]['data_samples'].gt_sem_seg.data[0].numpy()
        on_disk = read_labels(data_root, 'training', i).astype(np.int64)
        np.testing.assert_array_equal(loaded, np.where(on_disk == 0, 255, on_disk - 1))


def test_dataset_says_how_to_generate_missing_data(tmp_path):
    init_default_scope('mmseg')
    with pytest.raises(FileNotFoundError, match='generate_demo_data.py --task segmentation'):
        DATASETS.build(dict(type='ShapesSegDataset', data_root=str(tmp_path),
                            data_prefix=dict(img_path='images/training',
                                             seg_map_path='annotations/training')))


# ---------------------------------------------------------------------------------- metric

def iou_table(predictions, labels, num_classes):
    """Per-class IoU in percent over all images, ignoring 255, NaN for absent classes."""
    valid = labels != 255
    ious = []
    for c in range(num_classes):
        pred, true = (predictions == c) & valid, (labels == c) & valid
        union = (pred | true).sum()
        ious.append(100.0 * (pred & true).sum() / union if union else np.nan)
    return np.array(ious)


def evaluate(predictions, labels):
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=CLASSES)
    for prediction, label in zip(predictions, labels):
        metric.process([], [dict(pred_sem_seg=dict(data=torch.from_numpy(prediction)[None]),
                                 gt_sem_seg=dict(data=torch.from_numpy(label)[None]))])
    return metric.evaluate(len(labels))


def test_iou_metric_on_generated_labels(data_root):
    on_disk = np.stack([read_labels(data_root, 'validation', i) for i in range(4)])
    labels = np.where(on_disk == 0, 255, on_disk.astype(np.int64) - 1)
    perfect = np.where(labels == 255, 0, labels)  # what is predicted on ignored pixels is moot
    assert evaluate(perfect, labels)['mIoU'] == pytest.approx(100.0)
    # every pixel of the most frequent shape kind predicted as background
    kind = int(np.bincount(labels[(labels != 255) & (labels > 0)]).argmax())
    corrupted = np.where(perfect == kind, 0, perfect)
    expected = iou_table(corrupted, labels, len(CLASSES))
    assert expected[kind] == 0.0
    result = evaluate(corrupted, labels)
    assert result['mIoU'] == pytest.approx(np.nanmean(expected), abs=0.01)
    assert result['mIoU'] < 100.0


# ------------------------------------------------------------------------ models on a CPU

# The FlashInternImage forms: its backbone (DCNv4 blocks), and with Mask2Former the "nsmx"
# pixel decoder (deformable attention without the softmax) of its published S recipe.
FLASH = dict(type='FlashInternImage')
NSMX = dict(pixel_decoder=dict(type='mmdet.UnnormalizedMSDeformAttnPixelDecoder'))


@pytest.mark.parametrize('config, backbone, head', [
    (UPERNET_DEMO, None, None), (MASK2FORMER_DEMO, None, None), (UPERNET_DEMO, FLASH, None),
    (MASK2FORMER_DEMO, FLASH, NSMX)], ids=['upernet', 'mask2former', 'flash-upernet',
                                           'flash-mask2former-nsmx'])
def test_one_training_step_changes_backbone_and_head(config, backbone, head, data_root,
                                                     tmp_path):
    cfg = tiny_config(config, data_root, tmp_path)
    if backbone:  # the FlashInternImage family's arch key 'test': flash_internimage_test
        cfg.model.backbone.update(backbone)
    if head:
        cfg.model.decode_head.update(head)
    model = build_model(cfg)
    flash = type(model.backbone).__name__ == 'FlashInternImage'
    assert flash == bool(backbone)
    if head:
        assert type(model.decode_head.pixel_decoder).__name__ == \
            'UnnormalizedMSDeformAttnPixelDecoder'

    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)  # our layer-decay constructor
    before = {k: v.clone() for k, v in model.state_dict().items()}
    log_vars = model.train_step(first_batch(cfg), optim_wrapper)
    assert all(np.isfinite(float(v)) for v in log_vars.values())
    assert float(log_vars['loss']) > 0
    after = model.state_dict()
    for key in ('backbone.levels.0.blocks.0.dcn.' + ('value_proj' if flash else 'input_proj')
                + '.weight',
                'backbone.levels.3.blocks.0.mlp.fc2.weight',
                'decode_head.conv_seg.weight' if 'UPer' in cfg.model.decode_head.type
                else 'decode_head.cls_embed.weight'):
        assert not torch.equal(before[key], after[key]), key


@pytest.mark.parametrize('config', [UPERNET_DEMO, MASK2FORMER_DEMO])
def test_bf16_autocast_and_gradient_checkpointing_are_config_switches(config, data_root,
                                                                      tmp_path):
    """What ``tools/train.py --amp`` sets on a CPU (BF16AutocastOptimWrapper) and
    ``model.backbone.with_cp=True``: a training step with the backbone in bfloat16, float32
    weights that change, every InternImage layer checkpointed."""
    cfg = tiny_config(config, data_root, tmp_path)
    cfg.optim_wrapper.type = 'BF16AutocastOptimWrapper'
    cfg.model.backbone.with_cp = True
    model = build_model(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    key = 'backbone.levels.0.blocks.0.dcn.offset.weight'
    before = model.state_dict()[key].clone()
    batch = first_batch(cfg)
    log_vars = model.train_step(batch, optim_wrapper)
    assert all(np.isfinite(float(v)) for v in log_vars.values())
    assert not torch.equal(before, model.state_dict()[key])
    layers = [m for m in model.backbone.modules() if isinstance(m, InternImageLayer)]
    assert layers and all(layer.with_cp for layer in layers)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    inputs = model.data_preprocessor(batch, training=True)['inputs']
    with optim_wrapper.optim_context(model):
        features = model.extract_feat(inputs)
    assert all(level.dtype == torch.bfloat16 for level in features)


@pytest.mark.parametrize('config', [UPERNET_DEMO, MASK2FORMER_DEMO])
def test_whole_image_inference_predicts_every_pixel(config, data_root, tmp_path):
    cfg = tiny_config(config, data_root, tmp_path)
    model = build_model(cfg).eval()
    with torch.no_grad():
        results = model.test_step(first_batch(cfg, 'test_dataloader'))
    assert len(results) == 2
    for result in results:
        assert result.seg_logits.data.shape == (len(CLASSES), IMAGE_SIZE, IMAGE_SIZE)
        prediction = result.pred_sem_seg.data
        assert prediction.shape == (1, IMAGE_SIZE, IMAGE_SIZE)
        assert 0 <= prediction.min() and prediction.max() < len(CLASSES)
        torch.testing.assert_close(prediction[0], result.seg_logits.data.argmax(0))


def test_sliding_window_inference_matches_whole_and_covers_the_image(data_root, tmp_path):
    cfg = tiny_config(UPERNET_DEMO, data_root, tmp_path)
    model = build_model(cfg).eval()
    batch = first_batch(cfg, 'test_dataloader')
    with torch.no_grad():
        whole = model.test_step(batch)
        # one window of the image's size: the same computation as whole-image inference
        model.test_cfg = ConfigDict(mode='slide', crop_size=(IMAGE_SIZE, IMAGE_SIZE),
                                    stride=(64, 64))
        single = model.test_step(batch)
        # 3 x 3 overlapping 64-pixel windows, stride 32
        model.test_cfg = ConfigDict(mode='slide', crop_size=(64, 64), stride=(32, 32))
        windows = model.test_step(batch)
    for a, b, c in zip(whole, single, windows):
        torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data)
        assert c.seg_logits.data.shape == a.seg_logits.data.shape
        assert torch.isfinite(c.seg_logits.data).all()
        assert not torch.allclose(c.seg_logits.data, a.seg_logits.data)


def test_runner_trains_and_multi_scale_test_evaluates(data_root, tmp_path):
    """mmengine's Runner on the config (what tools/train.py and mmseg's own train.py do), then
    tools/test.py's multi-scale + flip test (--tta: SegTTAModel around the model, the config's
    tta_pipeline) with pictures; IoUMetric gives a percentage."""
    cfg = tiny_config(UPERNET_DEMO, data_root, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1 and os.path.isfile(tmp_path / 'iter_1.pth')
    config_path = tmp_path / 'tiny.py'
    cfg.dump(str(config_path))
    tested = subprocess.run(
        [sys.executable, 'tools/test.py', str(config_path), str(tmp_path / 'iter_1.pth'),
         '--tta', '--show-dir', str(tmp_path / 'pictures'), '--work-dir', str(tmp_path / 'tta')],
        cwd=ROOT, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stderr[-3000:]
    with open(tmp_path / 'tta' / 'test_metrics.json') as f:
        metrics = json.load(f)['metrics']
    assert set(metrics) == {'aAcc', 'mIoU', 'mAcc'}
    assert 0 <= metrics['mIoU'] <= metrics['aAcc'] <= 100
    pictures = list((tmp_path / 'pictures').rglob('*.png'))
    assert len(pictures) == len(os.listdir(os.path.join(data_root, 'images', 'validation')))


def test_mmseg_own_train_and_test_scripts_run_the_demo_config(data_root, tmp_path):
    """mmseg's packaged tools/train.py and tools/test.py (installed under mmseg/.mim) take our
    config as it is: custom_imports brings in the backbone and the dataset."""
    import mmseg
    mmseg_tools = Path(mmseg.__file__).parent / '.mim' / 'tools'
    config_path = tmp_path / 'tiny.py'
    tiny_config(UPERNET_DEMO, data_root, tmp_path / 'work').dump(str(config_path))
    trained = subprocess.run([sys.executable, str(mmseg_tools / 'train.py'), str(config_path)],
                             cwd=ROOT, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr[-3000:]
    checkpoint = tmp_path / 'work' / 'iter_1.pth'
    assert checkpoint.is_file()
    tested = subprocess.run([sys.executable, str(mmseg_tools / 'test.py'), str(config_path),
                             str(checkpoint)], cwd=ROOT, capture_output=True, text=True)
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert 'mIoU' in tested.stdout + tested.stderr


def test_image_demo_saves_a_colour_overlay(data_root, tmp_path):
    cfg = tiny_config(UPERNET_DEMO, data_root, tmp_path)
    config_path = str(tmp_path / 'tiny.py')
    cfg.dump(config_path)
    checkpoint = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': build_model(cfg).state_dict(),
                'meta': {'dataset_meta': dict(classes=CLASSES, palette=PALETTE)}}, checkpoint)
    image_path = os.path.join(data_root, 'images', 'validation', '000000.jpg')
    out_file = str(tmp_path / 'overlay.png')
    result = run_image_demo(config_path, checkpoint, image_path, out_file, opacity=0.5)
    overlay = cv2.imread(out_file)[..., ::-1].astype(np.float64)
    image = cv2.imread(image_path)[..., ::-1].astype(np.float64)
    assert overlay.shape == image.shape
    # away from the class-name text, each pixel is half the image, half its class colour
    prediction = result.pred_sem_seg.data[0].numpy()
    expected = 0.5 * image + 0.5 * np.asarray(PALETTE, np.float64)[prediction]
    assert np.median(np.abs(overlay - expected)) <= 1.0
    with pytest.raises(ValueError, match='opacity'):
        run_image_demo(config_path, checkpoint, image_path, out_file, opacity=0.0)
