"""Released checkpoints evaluate with the published test-time computation: on a fixed image, each
detection and segmentation config's test pipeline followed by its model's data preprocessor
(built through the real mmengine/mmdet/mmseg registries) gives the network input the published
test pipeline gave, with the metadata that maps predictions back, and the test-time settings of
the heads and the test set's classes are the published ones.

The published computation is written here from published facts (OpenGVLab/InternImage at
31c962d on mmcv 1.7, mmdet 2.28, mmseg 0.30):

- LoadImageFromFile: OpenCV, BGR;
- MultiScaleFlipAug(img_scale) + Resize(keep_ratio=True), mmcv.imrescale: factor
  min(long_max / long_side, short_max / short_side), size int(w * f + 0.5) x int(h * f + 0.5),
  cv2 INTER_LINEAR (mmcv 'bilinear'); scale_factor (new_w / w, new_h / h) in float32;
- mmseg ResizeToMultiple(size_divisor=32): mmcv.imresize_to_multiple, bilinear resize (not a pad)
  of the resized image up to the next multiples of 32, which become its img_shape;
- RandomFlip (multi-scale tests only): horizontal flip of the resized image;
- Normalize(mean, std, to_rgb=True): BGR -> RGB, then (x - mean) / std;
- mmdet Pad(size_divisor=32): zeros below and right of the normalized image, up to multiples
  of 32 (pad_shape; the DETR heads' batch_input_shape).

Where a published pipeline had neither Pad nor ResizeToMultiple, the network saw the resized
image as it is. mmdet 2.28 maps boxes back with img_shape and scale_factor; mmseg 0.30 maps the
network output within img_shape (the whole input, since nothing is padded) to ori_shape.
"""
import functools
import glob
import hashlib
import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DATASETS, MODELS, init_default_scope
from mmengine.utils import import_modules_from_strings

MEAN = np.array([123.675, 116.28, 103.53])  # published img_norm_cfg (RGB), to_rgb=True
STD = np.array([58.395, 57.12, 57.375])
IMAGE_SIZE = (301, 417)  # (h, w) of the fixed test image

# published mmdet 2.x test_cfg of the R-CNN heads (detection/configs/_base_/models/
# mask_rcnn_r50_fpn.py, cascade_mask_rcnn_r50_fpn.py, cascade_mask_rcnn_r50_fpn_crowdhuman.py)
RPN_TEST = dict(nms_pre=1000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=0)
MASK_RCNN_TEST = dict(rpn=RPN_TEST, rcnn=dict(score_thr=0.05, max_per_img=100,
                                              nms=dict(type='nms', iou_threshold=0.5),
                                              mask_thr_binary=0.5))
# CrowdHuman: the same, whose mask_thr_binary reaches no head (the model has no mask head)
BOX_RCNN_TEST = dict(rpn=RPN_TEST, rcnn=dict(score_thr=0.05, max_per_img=100,
                                             nms=dict(type='nms', iou_threshold=0.5)))

# our config (configs/detection/) -> (published config (detection/configs/), test img_scale,
# model test_cfg, num_classes of the heads (box heads stage by stage, then the mask head), test
# set); every published detection test pipeline ends in Pad(size_divisor=32)
DETECTION = {
    **{f'coco/mask_rcnn_internimage_{v}_fpn_{s}_coco.py': (
        f'coco/mask_rcnn_internimage_{v}_fpn_{s}_coco.py', (1333, 800), MASK_RCNN_TEST,
        (80, 80), 'CocoDataset') for v in 'tsb' for s in ('1x', '3x')},
    'coco/mask_rcnn_internimage_t_fpn_1x_coco_with_dcnv4.py': (
        'coco/mask_rcnn_internimage_t_fpn_1x_coco_with_dcnv4.py', (1333, 800), MASK_RCNN_TEST,
        (80, 80), 'CocoDataset'),
    **{f'coco/cascade_internimage_{v}_fpn_{s}_coco.py': (
        f'coco/cascade_internimage_{v}_fpn_{s}_coco.py', (1333, 800), MASK_RCNN_TEST,
        (80, 80, 80, 80), 'CocoDataset') for v in ('l', 'xl') for s in ('1x', '3x')},
    'crowd_human/cascade_internimage_xl_fpn_3x_crowd_human.py': (
        'crowd_human/cascade_internimage_xl_fpn_3x_crowd_human.py', (1333, 800), BOX_RCNN_TEST,
        (1, 1, 1), 'CrowdHumanDataset'),
    'coco/dino_4scale_internimage_t_1x_coco.py': (
        'coco/dino_4scale_internimage_t_1x_coco_layer_wise_lr.py', (1333, 800),
        dict(max_per_img=100), (80,), 'CocoDataset'),
    'coco/dino_4scale_internimage_l_1x_coco.py': (
        'coco/dino_4scale_internimage_l_1x_coco_layer_wise_lr.py', (1333, 800),
        dict(max_per_img=300), (80,), 'CocoDataset'),
    'coco/dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr.py': (
        'coco/dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr.py', (1333, 800),
        dict(max_per_img=300), (80,), 'CocoDataset'),
    **{f'coco/dino_4scale_{net}_o365_coco{fsdp}.py': (
        f'coco/dino_4scale_{net}_objects365_coco_ss.py', (2000, 1000), dict(max_per_img=300),
        (80,), 'CocoDataset')
       for net in ('internimage_h', 'internimage_g', 'cbinternimage_h') for fsdp in ('', '_fsdp')},
    **{f'lvis/dino_4scale_cbinternimage_h_objects365_lvis_{split}_ss.py': (
        f'lvis/dino_4scale_cbinternimage_h_objects365_lvis_{split}_ss.py', (2000, 1000),
        dict(max_per_img=300), (1203,), 'LVISV1Dataset') for split in ('val', 'minival')},
    # OpenImages: the classes come from the data's label file (mmdet 2.28 and 3.3 alike)
    'openimages/dino_4scale_cbinternimage_h_objects365_openimages_ss.py': (
        'openimages/dino_4scale_cbinternimage_h_objects365_openimages_ss.py', (2000, 1000),
        dict(max_per_img=300), (601,), None),
    # FlashInternImage (published in OpenGVLab/DCNv4 detection/configs/, same test settings)
    **{f'coco/mask_rcnn_flash_internimage_{v}_fpn_{s}_coco.py': (
        f'coco/mask_rcnn_flash_intern_image_{v}_fpn_{s}_coco.py', (1333, 800), MASK_RCNN_TEST,
        (80, 80), 'CocoDataset') for v in 'tsb' for s in ('1x', '3x')},
    **{f'coco/cascade_flash_internimage_l_fpn_{s}_coco.py': (
        f'coco/cascade_flash_intern_image_l_fpn_{s}_coco.py', (1333, 800), MASK_RCNN_TEST,
        (80, 80, 80, 80), 'CocoDataset') for s in ('1x', '3x')},
    **{f'coco/dino_4scale_flash_internimage_{v}_1x_coco.py': (
        f'coco/dino_4scale_flash_internimage_{v}_1x_coco.py', (1333, 800),
        dict(max_per_img=300), (80,), 'CocoDataset') for v in 'tsbl'},
    **{f'voc/dino_4scale_cbinternimage_h_objects365_{year}.py': (
        f'voc/dino_4scale_cbinternimage_h_objects365_{year}.py', (2000, 1000),
        dict(max_per_img=300), (20,), 'VOCDataset') for year in ('voc07', 'voc12')},
}

WHOLE = dict(mode='whole')
# our config (configs/segmentation/) -> (published config (segmentation/configs/), test
# img_scale, ResizeToMultiple size_divisor after Resize (None: no such step, and no Pad), model
# test_cfg, num_classes of the decode and auxiliary heads, test set); align_corners is False in
# every published head (set in the UperNet and SegFormer heads, BaseDecodeHead's default in
# Mask2Former's)
UPERNET_ADE = {'t': 512, 's': 512, 'b': 512, 'l': 640, 'xl': 640, 'h': 896, 'g': 896}
SEGMENTATION = {
    **{f'ade20k/upernet_internimage_{v}_{size}_160k_ade20k{fsdp}.py': (
        f'ade20k/upernet_internimage_{v}_{size}_160k_ade20k.py', (4 * size, size), 32, WHOLE,
        (150, 150), 'ADE20KDataset')
       for v, size in UPERNET_ADE.items() for fsdp in ('', '_fsdp')
       if not fsdp or v in ('h', 'g')},
    **{f'cityscapes/upernet_internimage_{v}_512x1024_160k_cityscapes.py': (
        f'cityscapes/upernet_internimage_{v}_512x1024_160k_cityscapes.py', (2048, 1024), None,
        WHOLE, (150, 150), 'CityscapesDataset') for v in ('t', 's', 'b', 'l', 'xl')},
    **{f'cityscapes/{head}_internimage_{v}_512x1024_160k_mapillary2cityscapes.py': (
        f'cityscapes/{head}_internimage_{v}_512x1024_160k_mapillary2cityscapes.py', (2048, 1024),
        None, WHOLE, heads, 'CityscapesDataset')
       for head, heads in (('upernet', (150, 150)), ('segformer', (150,))) for v in ('l', 'xl')},
    # the Mapillary models are tested on Cityscapes val (the published test set)
    **{f'mapillary/{head}_internimage_{v}_512x1024_80k_mapillary.py': (
        f'mapillary/{head}_internimage_{v}_512x1024_80k_mapillary.py', (2048, 1024), None, WHOLE,
        heads, 'CityscapesDataset')
       for head, heads in (('upernet', (150, 150)), ('segformer', (150,))) for v in ('l', 'xl')},
    # FlashInternImage (OpenGVLab/DCNv4 segmentation/configs/): UperNet-T's test has no
    # ResizeToMultiple (its own test pipeline is commented out)
    **{f'ade20k/upernet_flash_internimage_{v}_{size}_160k_ade20k.py': (
        f'ade20k/upernet_flash_internimage_{v}_{size}_160k_ade20k.py', (4 * size, size),
        None if v == 't' else 32, WHOLE, (150, 150), 'ADE20KDataset')
       for v, size in (('t', 512), ('s', 512), ('b', 512), ('l', 640))},
    **{f'ade20k/mask2former_flash_internimage_{v}_{size}_160k_ade20k_ss.py': (
        f'ade20k/mask2former_flash_internimage_{v}_{size}_160k_ade20k_ss.py', (4 * size, size),
        32, WHOLE, (150,), 'ADE20KDataset')
       for v, size in (('t', 512), ('s', 640), ('b', 640), ('l', 640))},
    'ade20k/mask2former_flash_internimage_s_640_160k_ade20k_ss_nsmx.py': (
        'ade20k/mask2former_flash_internimage_s_640_160k_ade20k_ss_nsmx.py', (2560, 640), 32,
        WHOLE, (150,), 'ADE20KDataset'),
    'ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k.py': (
        'ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k_ss.py', (3584, 896), 32,
        WHOLE, (150,), 'ADE20KDataset'),
    'cityscapes/mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes.py': (
        'cityscapes/mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes.py',
        (2048, 1024), 32, dict(mode='slide', crop_size=(1024, 1024), stride=(512, 512)), (19,),
        'CityscapesDataset'),
    'mapillary/mask2former_internimage_h_896x896_80k_mapillary.py': (
        'mapillary/mask2former_internimage_h_896x896_80k_mapillary.py', (2048, 1024), 32,
        dict(mode='slide', crop_size=(896, 896), stride=(512, 512)), (19,), 'CityscapesDataset'),
    'coco_stuff164k/mask2former_internimage_h_896_80k_cocostuff164k.py': (
        'coco_stuff164k/mask2former_internimage_h_896_80k_cocostuff164k.py', (3584, 896), 32,
        WHOLE, (171,), 'COCOStuffDataset'),
    'coco_stuff10k/mask2former_internimage_h_512_40k_cocostuff164k_to_10k.py': (
        'coco_stuff10k/mask2former_internimage_h_512_40k_cocostuff164k_to_10k.py', (2048, 512),
        32, WHOLE, (171,), 'COCOStuffDataset'),
    'nyu_depth_v2/mask2former_internimage_h_480_40k_nyu.py': (
        'nyu_depth_v2/mask2former_internimage_h_480_40k_nyu.py', (640, 480), 32, WHOLE, (40,),
        'NYUDepthV2Dataset'),
    'pascal_context/mask2former_internimage_h_480_40k_pascal_context_59.py': (
        'pascal_context/mask2former_internimage_h_480_40k_pascal_context_59.py', (4096, 520), 32,
        WHOLE, (59,), 'PascalContextDataset59'),
}
# the test-only multi-scale configs -> their single-scale configs (model and test set)
MS_CONFIGS = {
    'ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k_ms.py':
        'ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k.py',
    'cityscapes/mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes_ms.py':
        'cityscapes/mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes.py',
}
# published segmentation/test.py --aug-test: img_ratios set on the config's MultiScaleFlipAug,
# flip=True (mmseg 0.30 MultiScaleFlipAug: scales int(img_scale * ratio))
AUG_TEST_RATIOS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)


def aug_test(scale, ratios=AUG_TEST_RATIOS):
    return [(int(scale[0] * r), int(scale[1] * r)) for r in ratios]


# multi-scale + flip tests: our config -> (published MultiScaleFlipAug scales, each with and
# without flip, ResizeToMultiple size_divisor). The _ms configs' test pipelines: published
# ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k_ms.py (img_scale (3584, 896),
# img_ratios 768/896 .. 1024/896) and, for Cityscapes, the _ms config of commit c570a7e
# (img_scale (2048, 1024), the --aug-test ratios; removed before 31c962d); and, for the
# --aug-test figures of the single-scale configs (our tta_pipeline, tools/test.py --tta), one.
MULTI_SCALE = {
    'ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k_ms.py': (
        aug_test((3584, 896), [768 / 896, 832 / 896, 1.0, 960 / 896, 1024 / 896]), 32),
    'cityscapes/mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes_ms.py': (
        aug_test((2048, 1024)), 32),
    'ade20k/upernet_internimage_t_512_160k_ade20k.py': (aug_test((2048, 512)), 32),
}

# the published test sets' classes: mmdet 2.28 (CocoDataset, LVISV1Dataset, VOCDataset),
# mmseg 0.30 (ADE20KDataset, CityscapesDataset, COCOStuffDataset, PascalContextDataset59),
# published detection/mmdet_custom/datasets/crowd_human.py and segmentation/mmseg_custom/
# datasets/nyu_depth_v2.py. Long lists: (count, first, last, sha1 of the names joined by
# newlines, first 12 hex digits); short ones whole.
CLASSES = {
    'CocoDataset': (80, 'person', 'toothbrush', '1febf3c237fb'),
    'LVISV1Dataset': (1203, 'aerosol_can', 'zucchini', '16dae9f579eb'),
    'ADE20KDataset': (150, 'wall', 'flag', '9cce274e8ae5'),
    'COCOStuffDataset': (171, 'person', 'wood', '441e80f13259'),
    'CrowdHumanDataset': ('person',),
    'VOCDataset': (
        'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
        'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
        'train', 'tvmonitor'),
    'CityscapesDataset': (
        'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
        'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus',
        'train', 'motorcycle', 'bicycle'),
    'NYUDepthV2Dataset': (
        'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
        'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain', 'dresser',
        'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books', 'refridgerator',
        'television', 'paper', 'towel', 'shower curtain', 'box', 'whiteboard', 'person',
        'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure',
        'otherfurniture', 'otherprop'),
    'PascalContextDataset59': (
        'aeroplane', 'bag', 'bed', 'bedclothes', 'bench', 'bicycle', 'bird', 'boat', 'book',
        'bottle', 'building', 'bus', 'cabinet', 'car', 'cat', 'ceiling', 'chair', 'cloth',
        'computer', 'cow', 'cup', 'curtain', 'dog', 'door', 'fence', 'floor', 'flower', 'food',
        'grass', 'ground', 'horse', 'keyboard', 'light', 'motorbike', 'mountain', 'mouse',
        'person', 'plate', 'platform', 'pottedplant', 'road', 'rock', 'sheep', 'shelves',
        'sidewalk', 'sign', 'sky', 'snow', 'sofa', 'table', 'track', 'train', 'tree', 'truck',
        'tvmonitor', 'wall', 'water', 'window', 'wood'),
}
SINGLE_SCALE = sorted(DETECTION) + sorted(SEGMENTATION)


@functools.lru_cache(maxsize=None)
def read(name):
    """Our config, read once (the tests only read it), with its plugin packages imported as its
    custom_imports say."""
    task = 'detection' if name in DETECTION else 'segmentation'
    cfg = Config.fromfile(f'configs/{task}/{name}')
    import_modules_from_strings(**cfg.custom_imports)
    return cfg


def load(name):
    """Our config, with its registry scope made the default."""
    cfg = read(name)
    init_default_scope(cfg.default_scope)
    return cfg


def model_of(cfg):
    """The segmentor or detector (inside the TTA model of the multi-scale configs)."""
    return cfg.model.get('module', cfg.model)


@pytest.fixture(scope='module')
def image_path(tmp_path_factory):
    """A fixed 301x417 BGR image: a smooth random field plus noise, saved losslessly."""
    rng = np.random.default_rng(301)
    coarse = rng.integers(0, 256, (31, 42, 3), dtype=np.uint8)
    smooth = cv2.resize(coarse, IMAGE_SIZE[::-1], interpolation=cv2.INTER_LINEAR)
    noise = rng.integers(-20, 21, (*IMAGE_SIZE, 3))
    path = tmp_path_factory.mktemp('test_time') / 'image.png'
    assert cv2.imwrite(str(path), np.clip(smooth + noise, 0, 255).astype(np.uint8))
    return str(path)


def published_input(path, scale, multiple=None, pad=None, flip=False):
    """The published test pipeline on one image: (network input CHW, metadata)."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    new_w, new_h = int(w * factor + 0.5), int(h * factor + 0.5)
    image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    scale_factor = np.array([new_w / w, new_h / h], dtype=np.float32)
    if multiple:
        new_w, new_h = (math.ceil(s / multiple) * multiple for s in (new_w, new_h))
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    if flip:
        image = image[:, ::-1]
    rgb = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB)
    normalized = ((rgb - MEAN) / STD).astype(np.float32)
    if pad:
        padded = [math.ceil(s / pad) * pad for s in (new_h, new_w)]
        normalized = np.pad(normalized, ((0, padded[0] - new_h), (0, padded[1] - new_w), (0, 0)))
    meta = dict(ori_shape=(h, w), img_shape=(new_h, new_w), scale_factor=scale_factor,
                pad_shape=normalized.shape[:2])
    return torch.from_numpy(normalized.transpose(2, 0, 1)), meta


def preprocess(model_cfg, packed):
    """The model's data preprocessor on one packed sample, as in test_step."""
    preprocessor = MODELS.build(model_cfg.data_preprocessor)
    data = preprocessor(dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]),
                        training=False)
    return data['inputs'][0], data['data_samples'][0].metainfo


def our_pipeline(steps):
    """A test pipeline without its annotation loading (no labels here), in TestTimeAug too."""
    def kept(group):
        return [step for step in group if step['type'] != 'LoadAnnotations']
    return Compose([dict(step, transforms=[kept(g) for g in step.transforms if kept(g)])
                    if step.type == 'TestTimeAug' else step for step in kept(steps)])


@functools.lru_cache(maxsize=None)
def our_input(name, path):
    cfg = load(name)
    packed = our_pipeline(cfg.test_dataloader.dataset.pipeline)(dict(img_path=path, img_id=0))
    return preprocess(model_of(cfg), packed)


def published_for(name, path):
    if name in DETECTION:
        return published_input(path, DETECTION[name][1], pad=32)
    return published_input(path, SEGMENTATION[name][1], multiple=SEGMENTATION[name][2])


def mapped_region(meta):
    """The part of our network input that is mapped back to ori_shape: mmdet clips to and
    rescales from img_shape; mmseg crops the padding its preprocessor recorded."""
    if 'img_padding_size' not in meta:
        return tuple(meta['img_shape'])
    _, right, _, bottom = meta['img_padding_size']
    return (meta['pad_shape'][0] - bottom, meta['pad_shape'][1] - right)


def test_every_config_is_in_the_tables():
    configs = {path.split('/', 2)[2] for path in glob.glob('configs/detection/*/*.py') +
               glob.glob('configs/segmentation/*/*.py') if '/demo/' not in path}
    assert configs == set(DETECTION) | set(SEGMENTATION) | set(MS_CONFIGS)


@pytest.mark.parametrize('name', SINGLE_SCALE)
def test_network_input_is_the_published_one(name, image_path):
    """Same size, same pixels (float32 rounding of the normalization aside)."""
    got, _ = our_input(name, image_path)
    expected, _ = published_for(name, image_path)
    assert tuple(got.shape) == tuple(expected.shape)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize('name', SINGLE_SCALE)
def test_predictions_are_mapped_back_as_published(name, image_path):
    """ori_shape and the input region mapped onto it; for detection also the scale factor
    boxes are divided by and the padded shape the DETR heads mask."""
    _, meta = our_input(name, image_path)
    _, published = published_for(name, image_path)
    assert tuple(meta['ori_shape']) == published['ori_shape']
    assert mapped_region(meta) == published['img_shape']
    if name in DETECTION:
        assert np.array_equal(np.float32(meta['scale_factor']), published['scale_factor'])
        assert tuple(meta['batch_input_shape']) == published['pad_shape']


@pytest.mark.parametrize('name', sorted(MULTI_SCALE))
def test_multi_scale_inputs_are_the_published_ones(name, image_path):
    """Every scale, unflipped and flipped: the model's preprocessor on each branch of our
    multi-scale pipeline (the _ms config's test pipeline, or the tta_pipeline of --tta) against
    MultiScaleFlipAug's branches."""
    cfg = load(name)
    scales, multiple = MULTI_SCALE[name]
    pipeline = cfg.test_dataloader.dataset.pipeline if name in MS_CONFIGS else cfg.tta_pipeline
    branches = our_pipeline(pipeline)(dict(img_path=image_path))
    got = {}
    for inputs, sample in zip(branches['inputs'], branches['data_samples']):
        tensor, meta = preprocess(model_of(cfg), dict(inputs=inputs, data_samples=sample))
        got[tuple(tensor.shape), bool(meta['flip'])] = tensor
    expected = {}
    for scale in scales:
        for flip in (False, True):
            tensor, _ = published_input(image_path, scale, multiple=multiple, flip=flip)
            expected[tuple(tensor.shape), flip] = tensor
    assert sorted(got) == sorted(expected)
    for key, tensor in expected.items():
        torch.testing.assert_close(got[key], tensor, rtol=0, atol=1e-5)


def head_classes(model):
    """num_classes of the box heads stage by stage, then of the mask head if any."""
    if 'roi_head' not in model:
        return (model.bbox_head.num_classes,)
    boxes = model.roi_head.bbox_head
    boxes = boxes if isinstance(boxes, list) else [boxes]
    mask = model.roi_head.get('mask_head')
    return tuple(b.num_classes for b in boxes) + ((mask.num_classes,) if mask else ())


@pytest.mark.parametrize('name', sorted(DETECTION))
def test_detection_test_settings_are_the_published_ones(name):
    cfg = load(name)
    _, scale, test_cfg, classes, _ = DETECTION[name]
    resize = [step for step in cfg.test_dataloader.dataset.pipeline if step.type == 'Resize']
    assert [(tuple(step.scale), step.keep_ratio) for step in resize] == [(scale, True)]
    assert cfg.model.test_cfg.to_dict() == test_cfg
    assert head_classes(cfg.model) == classes


@pytest.mark.parametrize('name', sorted(SEGMENTATION) + sorted(MS_CONFIGS))
def test_segmentation_test_settings_are_the_published_ones(name):
    _, scale, _, test_cfg, classes, _ = SEGMENTATION[MS_CONFIGS.get(name, name)]
    cfg = load(name)
    model = model_of(cfg)
    if name not in MS_CONFIGS:
        resize = [step for step in cfg.test_dataloader.dataset.pipeline if step.type == 'Resize']
        assert [(tuple(step.scale), step.keep_ratio) for step in resize] == [(scale, True)]
    assert model.test_cfg.to_dict() == test_cfg
    heads = [model.decode_head] + ([model.auxiliary_head] if model.get('auxiliary_head') else [])
    assert tuple(head.num_classes for head in heads) == classes
    assert [head.align_corners for head in heads] == [False] * len(heads)


@pytest.mark.parametrize('name', SINGLE_SCALE + sorted(MS_CONFIGS))
def test_test_set_classes_are_the_published_ones(name):
    """The test set's class names (metainfo), in order, are the published dataset's."""
    single = MS_CONFIGS.get(name, name)
    published = (DETECTION.get(single) or SEGMENTATION[single])[-1]
    if published is None:
        pytest.skip('the classes come from the data (the OpenImages label file)')
    cfg = load(name)
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == published
    with DATASETS.switch_scope_and_registry(cfg.default_scope) as registry:
        known = registry.get(dataset.type).METAINFO['classes']
    classes = tuple((dataset.get('metainfo') or {}).get('classes') or known)
    expected = CLASSES[published]
    if isinstance(expected[0], int):
        count, first, last, digest = expected
        assert (len(classes), classes[0], classes[-1]) == (count, first, last)
        assert hashlib.sha1('\n'.join(classes).encode()).hexdigest()[:12] == digest
    else:
        assert classes == expected
