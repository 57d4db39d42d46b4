"""Images reach the models as 8-bit RGB by one rule (internimage.models.images): 16-bit
values scaled by 65535, 32-bit integers by 2**31 - 1, floats in [0, 1] by 255; negative, NaN or
out-of-range values, 64-bit integers, empty images and damaged files are refused with the
image's name. Checked on real files written by cv2 and PIL, through the Predictor, the
detection and segmentation image demos and tools/image_demo.py (a subprocess), 1x1 images
included. Files are turned by their EXIF orientation as mmcv.imread (the data sets' loader) turns
them, on every reading path; the image demos take strips such as 10000x10."""
import importlib
import re
from pathlib import Path

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from PIL import Image

from classification.data import ImageClassificationDataset
from classification.inference import Predictor
from classification.visualization import captioned_grid
from internimage.models import create_classifier
from internimage.models.images import pad_to_aspect_ratio, read_rgb
from tool_scripts import load_tool, run_tool

# 8-bit values 0..255 and the 16-bit values that stand for them exactly (k * 257)
LEVELS = np.arange(256, dtype=np.uint8).reshape(16, 16)


@pytest.fixture(scope='module')
def predictor():
    torch.manual_seed(0)
    return Predictor(create_classifier('internimage_test', num_classes=7), image_size=32)


def truncated_copy(path, out):
    data = Path(path).read_bytes()
    Path(out).write_bytes(data[:len(data) // 2])
    return out


@pytest.mark.parametrize('suffix', ['.png', '.tif'])
def test_16_bit_grey_files_scale_by_65535(tmp_path, suffix):
    path = str(tmp_path / f'grey16{suffix}')
    assert cv2.imwrite(path, LEVELS.astype(np.uint16) * 257)
    assert Image.open(path).mode == 'I;16'  # PIL's own RGB conversion clips this to white
    rgb = read_rgb(path)
    assert rgb.dtype == np.uint8 and rgb.shape == (16, 16, 3)
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], LEVELS)


def test_32_bit_integer_tiff_scales_by_int32_max_and_refuses_negative_values(tmp_path):
    path = tmp_path / 'int32.tif'
    Image.fromarray(np.array([[0, 2 ** 31 - 1, 2 ** 30, 8421504]], np.int32)).save(path)
    assert Image.open(path).mode == 'I'
    assert read_rgb(path)[0, :, 0].tolist() == [0, 255, 128, 1]
    negative = tmp_path / 'negative.tif'
    Image.fromarray(np.array([[5, -7]], np.int32)).save(negative)
    with pytest.raises(ValueError, match=r'negative.tif: int32 image with negative values '
                                         r'\(down to -7\)'):
        read_rgb(negative)


def test_float_tiff_in_unit_range_scales_by_255_and_others_are_refused(tmp_path):
    path = tmp_path / 'float.tif'
    Image.fromarray(np.array([[0.0, 0.25, 0.5, 1.0]], np.float32)).save(path)
    assert read_rgb(path)[0, :, 1].tolist() == [0, 64, 128, 255]  # PIL alone: [0, 0, 0, 1]
    for name, values in (('bright.tif', [0.5, 1.5]), ('nan.tif', [0.5, np.nan])):
        Image.fromarray(np.array([values], np.float32)).save(tmp_path / name)
        with pytest.raises(ValueError, match=rf'{name}: float images must lie in \[0, 1\]'):
            read_rgb(tmp_path / name)


def test_the_predictor_classifies_a_16_bit_image_as_its_8_bit_twin(tmp_path, predictor):
    image = np.stack([LEVELS, LEVELS.T, 255 - LEVELS], axis=2)
    cv2.imwrite(str(tmp_path / 'rgb8.png'), image[..., ::-1])
    cv2.imwrite(str(tmp_path / 'grey16.png'), LEVELS.astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / 'grey8.png'), LEVELS)
    batch = predictor.preprocess([str(tmp_path / 'grey16.png'), str(tmp_path / 'grey8.png')])
    torch.testing.assert_close(batch[0], batch[1], rtol=0, atol=0)
    assert batch[0].std() > 0.5  # the ramp, not a constant picture
    wide = predictor.topk([str(tmp_path / 'grey16.png'), LEVELS.astype(np.uint16) * 257,
                           LEVELS / 255.0], k=3)
    (eight_bit,) = predictor.topk(str(tmp_path / 'grey8.png'), k=3)
    for result in wide:  # the file, the uint16 array and the float array in [0, 1]
        assert [index for index, _ in result] == [index for index, _ in eight_bit]
        np.testing.assert_allclose([p for _, p in result], [p for _, p in eight_bit],
                                   rtol=1e-5)  # batched vs alone: float rounding only


def test_arrays_follow_the_same_rule_and_bad_ones_are_named(predictor):
    np.testing.assert_array_equal(read_rgb(LEVELS.astype(np.uint16) * 257)[..., 0], LEVELS)
    np.testing.assert_array_equal(read_rgb(np.full((2, 2, 3), 0.5))[0, 0], [128, 128, 128])
    with pytest.raises(TypeError, match='int64 images are not supported'):
        read_rgb(np.full((4, 4, 3), 200))  # numpy's default integer: not an image type
    with pytest.raises(ValueError, match=r'shape \(4, 4, 4\)'):
        predictor.preprocess(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=r'float images must lie in \[0, 1\]'):
        predictor.preprocess(np.full((4, 4, 3), 2.0, np.float32))


def test_empty_inputs_are_refused(predictor):
    for call in (predictor.topk, predictor.feature_maps):
        with pytest.raises(ValueError, match=r'no images given'):
            call([])
    for array in (np.zeros((0, 0), np.uint8), np.zeros((0, 5, 3), np.uint16)):
        with pytest.raises(ValueError,
                           match=re.escape(f'image array is empty (shape {array.shape})')):
            predictor.topk(array)
    with pytest.raises(ValueError, match=r'PIL image is empty \(0x0\)'):
        predictor.topk(Image.new('RGB', (0, 0)))


@pytest.mark.parametrize('suffix', ['.png', '.jpg'])
def test_truncated_and_unreadable_files_are_named(tmp_path, predictor, suffix):
    whole = str(tmp_path / f'whole{suffix}')
    cv2.imwrite(whole, np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8))
    broken = truncated_copy(whole, tmp_path / f'broken{suffix}')
    with pytest.raises(OSError, match=rf'cannot read image .*broken\{suffix}: '):
        predictor.topk(str(broken))
    (tmp_path / f'text{suffix}').write_text('not an image')
    with pytest.raises(OSError, match=rf'cannot read image .*text\{suffix}: '):
        predictor.topk(str(tmp_path / f'text{suffix}'))


def test_a_one_pixel_image_is_classified_as_a_plain_image_of_its_colour(predictor):
    pixel = np.array([[[30, 140, 220]]], np.uint8)
    torch.testing.assert_close(predictor.preprocess(pixel),
                               predictor.preprocess(np.tile(pixel, (8, 8, 1))),
                               rtol=0, atol=1e-5)
    grid = captioned_grid(np.tile(pixel, (3, 1, 1, 1)), ['a', 'b', 'c'], [(0, 0, 0)] * 3)
    assert grid.shape == (15, 3, 3) and (grid[0] == pixel[0, 0]).all()


# ------------------------------------------------------------------ the detection/seg demos

@pytest.fixture(scope='module')
def segmentation_demo(tmp_path_factory):
    """The UperNet demo config on the tiny backbone with random weights: (config, checkpoint)."""
    from test_segmentation import CLASSES, PALETTE, UPERNET_DEMO, build_model, tiny_config
    folder = tmp_path_factory.mktemp('segmentation_demo')
    cfg = tiny_config(UPERNET_DEMO, str(folder), folder)
    cfg.dump(str(folder / 'tiny.py'))
    torch.save({'state_dict': build_model(cfg).state_dict(),
                'meta': {'dataset_meta': dict(classes=CLASSES, palette=PALETTE)}},
               folder / 'tiny.pth')
    return str(folder / 'tiny.py'), str(folder / 'tiny.pth')


@pytest.fixture(scope='module')
def detection_demo(tmp_path_factory):
    """The Mask R-CNN demo config on the tiny backbone with random weights."""
    from test_detection import CLASSES, DEMO_CONFIG, build_detector, tiny_config
    init_default_scope('mmdet')
    folder = tmp_path_factory.mktemp('detection_demo')
    cfg = tiny_config(DEMO_CONFIG)
    cfg.dump(str(folder / 'tiny.py'))
    torch.manual_seed(0)
    torch.save({'state_dict': build_detector(cfg).state_dict(),
                'meta': {'dataset_meta': {'classes': CLASSES}}}, folder / 'tiny.pth')
    return str(folder / 'tiny.py'), str(folder / 'tiny.pth')


def run_image_demo_tool(image, demo, out_file):
    return run_tool('image_demo.py', image, *demo, '--out-file', out_file, '--score-thr', '0')


@pytest.mark.parametrize('task', ['segmentation', 'detection'])
def test_image_demo_tool_draws_a_one_pixel_image(tmp_path, task, request):
    demo = request.getfixturevalue(f'{task}_demo')
    cv2.imwrite(str(tmp_path / 'pixel.png'), np.array([[[20, 120, 220]]], np.uint8))
    out_file = tmp_path / 'picture.png'
    result = run_image_demo_tool(tmp_path / 'pixel.png', demo, out_file)
    assert result.returncode == 0, result.stderr[-3000:]
    picture = cv2.imread(str(out_file))
    assert picture.shape == (1, 1, 3)
    if task == 'segmentation':  # half the pixel, half a class colour or the black outline
        from segmentation.shapes_dataset import PALETTE  # of mmseg's class-name box
        blends = 0.5 * np.array([220, 120, 20]) + 0.5 * np.asarray([*PALETTE, (0, 0, 0)])
        assert np.abs(blends - picture[0, 0, ::-1]).max(axis=1).min() <= 1


def test_image_demo_tool_names_a_damaged_file_before_building_anything(tmp_path,
                                                                      segmentation_demo):
    cv2.imwrite(str(tmp_path / 'whole.png'), np.zeros((32, 32, 3), np.uint8))
    broken = truncated_copy(tmp_path / 'whole.png', tmp_path / 'broken.png')
    out_file = tmp_path / 'picture.png'
    result = run_image_demo_tool(broken, segmentation_demo, out_file)
    assert result.returncode != 0
    assert f'image_demo: cannot read image {broken}' in result.stderr
    assert 'Traceback' not in result.stderr and not out_file.exists()


def test_segmentation_demo_draws_a_16_bit_image_as_its_8_bit_twin(tmp_path, segmentation_demo):
    from segmentation.visualize import run_image_demo
    image = np.random.default_rng(1).integers(0, 256, (32, 48), np.uint8)
    cv2.imwrite(str(tmp_path / 'grey8.png'), image)
    cv2.imwrite(str(tmp_path / 'grey16.png'), image.astype(np.uint16) * 257)
    results = [run_image_demo(*segmentation_demo, str(tmp_path / f'{name}.png'),
                              str(tmp_path / f'{name}_out.png'))
               for name in ('grey8', 'grey16')]
    assert torch.equal(results[0].pred_sem_seg.data, results[1].pred_sem_seg.data)
    assert np.array_equal(cv2.imread(str(tmp_path / 'grey8_out.png')),
                          cv2.imread(str(tmp_path / 'grey16_out.png')))
    with pytest.raises(ValueError, match='float images must lie in'):
        run_image_demo(*segmentation_demo, np.full((8, 8, 3), 3.0), str(tmp_path / 'x.png'))
    assert not (tmp_path / 'x.png').exists()


# ------------------------------------------------------------------ EXIF orientation

# A 24x40 picture that every turn or flip changes: red grows to the right, green downwards
PATTERN = np.stack(np.broadcast_arrays(np.linspace(0, 255, 40)[None, :],
                                       np.linspace(0, 255, 24)[:, None], 128), axis=2,
                   dtype=np.uint8, casting='unsafe')
ORIENTATION = 0x0112  # the EXIF tag


def phone_photo(path, orientation):
    """A JPEG of PATTERN as a camera stores it: pixels as the sensor saw them, with the EXIF
    ``orientation`` that tells viewers how to turn them; the path and mmcv.imread's RGB array of
    it (the detection and segmentation data sets' loader: OpenCV turns it)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    Image.fromarray(PATTERN).save(path, exif=exif)
    loaded = mmcv.imread(str(path), channel_order='rgb')
    assert loaded.shape == ((40, 24, 3) if orientation in (6, 8) else (24, 40, 3))
    with Image.open(path) as unturned:  # the tag matters: ignoring it gives another picture
        assert not np.array_equal(np.asarray(unturned.convert('RGB')), loaded)
    return str(path), loaded


@pytest.mark.parametrize('orientation', [3, 6])
def test_predictor_and_image_demo_see_a_photo_turned_as_the_data_sets_load_it(
        tmp_path, predictor, orientation):
    path, loaded = phone_photo(tmp_path / 'photo.jpg', orientation)
    np.testing.assert_array_equal(read_rgb(path), loaded)
    np.testing.assert_array_equal(load_tool('image_demo').read_image_or_exit(path), loaded)
    torch.testing.assert_close(predictor.preprocess(path), predictor.preprocess(loaded),
                               rtol=0, atol=0)


@pytest.mark.parametrize('decoder', ['pil', 'cv2'])
@pytest.mark.parametrize('orientation', [3, 6])
def test_classification_data_sets_turn_a_photo_as_mmcv_does(tmp_path, decoder, orientation):
    (tmp_path / 'train' / 'cat').mkdir(parents=True)
    _, loaded = phone_photo(tmp_path / 'train' / 'cat' / 'photo.jpg', orientation)
    dataset = ImageClassificationDataset(str(tmp_path), 'train', decoder=decoder, test_mode=True,
                                         transform=dict(input_size=24, crop_pct=1.0))
    assert torch.equal(dataset[0]['inputs'], dataset.transform(Image.fromarray(loaded)))


@pytest.mark.parametrize('orientation', [3, 6])
@pytest.mark.parametrize('task', ['segmentation', 'detection'])
def test_image_demos_draw_a_photo_turned_as_the_data_sets_load_it(tmp_path, task, orientation,
                                                                  request):
    """The demo of a file predicts and draws what it does for mmcv.imread's array of it."""
    run_image_demo = importlib.import_module(f'{task}.visualize').run_image_demo
    demo = request.getfixturevalue(f'{task}_demo')
    path, loaded = phone_photo(tmp_path / 'photo.jpg', orientation)
    results = [run_image_demo(*demo, image, str(tmp_path / f'{name}.png'))
               for name, image in (('file', path), ('array', loaded))]
    assert results[0].ori_shape == loaded.shape[:2]
    field = 'pred_sem_seg' if task == 'segmentation' else 'pred_instances'
    for key, value in results[1].get(field).items():
        assert torch.equal(results[0].get(field).get(key), value), key
    assert np.array_equal(cv2.imread(str(tmp_path / 'file.png')),
                          cv2.imread(str(tmp_path / 'array.png')))


# ------------------------------------------------------------------ extreme aspect ratios

@pytest.mark.parametrize('shape', [(10, 10000), (10000, 10)])
@pytest.mark.parametrize('task', ['segmentation', 'detection'])
def test_image_demo_tool_draws_a_strip(tmp_path, task, shape, request):
    """A keep-ratio resize to the demo configs' 128 or 160 pixels would make the short side 0
    pixels (cv2: inv_scale_x > 0); the demo draws the whole strip instead."""
    strip = np.random.default_rng(2).integers(0, 256, (*shape, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'strip.png'), strip)
    out_file = tmp_path / 'picture.png'
    result = run_image_demo_tool(tmp_path / 'strip.png', request.getfixturevalue(f'{task}_demo'),
                                 out_file)
    assert result.returncode == 0, result.stderr[-3000:]
    assert cv2.imread(str(out_file)).shape == (*shape, 3)


def test_strips_are_padded_with_black_to_at_most_16_to_1_and_other_images_kept():
    square = np.full((300, 200, 3), 7, np.uint8)
    assert pad_to_aspect_ratio(square) is square
    strip = np.full((10, 10000), 7, np.uint16)
    padded = pad_to_aspect_ratio(strip)
    assert padded.shape == (625, 10000) and padded.dtype == np.uint16
    assert (padded[:10] == 7).all() and not padded[10:].any()
    assert pad_to_aspect_ratio(strip.T).shape == (10000, 625)


@pytest.mark.parametrize('task', ['segmentation', 'detection'])
def test_image_demo_results_of_a_strip_lie_on_the_strip(tmp_path, task, request):
    run_image_demo = importlib.import_module(f'{task}.visualize').run_image_demo
    strip = np.random.default_rng(3).integers(0, 256, (10, 10000, 3), np.uint8)
    result = run_image_demo(*request.getfixturevalue(f'{task}_demo'), strip,
                            str(tmp_path / 'picture.png'), **({} if task == 'segmentation'
                                                              else dict(score_thr=0)))
    assert result.ori_shape == (10, 10000)
    if task == 'segmentation':
        assert result.pred_sem_seg.shape == result.seg_logits.shape == (10, 10000)
    else:
        boxes = result.pred_instances.bboxes
        assert len(boxes) and result.pred_instances.masks.shape[1:] == (10, 10000)
        assert (boxes >= 0).all() and (boxes[:, 0::2] <= 10000).all()
        assert (boxes[:, 1::2] <= 10).all() and (boxes[:, 2:] > boxes[:, :2]).all()
