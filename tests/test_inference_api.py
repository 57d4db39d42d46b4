"""classification.inference: preprocessing equals a hand computation with PIL and the ImageNet
statistics, top-k agrees with torch.topk of the logits, feature maps are the levels, checkpoints
load into a named variant, and bad input is named."""
import numpy as np
import pytest
import torch
from PIL import Image

from classification.inference import Predictor, read_image
from internimage.models import arch_options, create_classifier, pretrained_cfg
from dcnv3_cases import perturbed

# the registered test variant's options, stated over a published variant's
TINY = dict(arch_options('internimage_test'), num_classes=7)
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def random_image(height=40, width=60, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture(scope='module')
def predictor():
    torch.manual_seed(0)
    return Predictor(perturbed(create_classifier('internimage_test', num_classes=7)),
                     image_size=32)


def test_preprocessing_is_bicubic_resize_centre_crop_and_imagenet_normalisation(predictor):
    image = random_image()
    # Shorter side 40 -> floor(32 / 0.875) = 36 (60 -> 54), then the centre 32x32.
    resized = np.asarray(Image.fromarray(image).resize((54, 36), Image.BICUBIC), np.float64)
    crop = resized[2:34, 11:43] / 255
    expected = torch.from_numpy(((crop - MEAN) / STD).transpose(2, 0, 1)).float()
    batch = predictor.preprocess(image)
    assert batch.shape == (1, 3, 32, 32)
    torch.testing.assert_close(batch[0], expected, rtol=0, atol=1e-5)


def test_files_pil_images_and_arrays_preprocess_alike(predictor, tmp_path):
    image = random_image()
    Image.fromarray(image).save(tmp_path / 'image.png')
    batch = predictor.preprocess([str(tmp_path / 'image.png'), Image.fromarray(image), image])
    assert batch.shape == (3, 3, 32, 32)
    torch.testing.assert_close(batch[0], batch[1], rtol=0, atol=0)
    torch.testing.assert_close(batch[0], batch[2], rtol=0, atol=0)
    grey = read_image(image[..., 0])
    assert grey.mode == 'RGB' and np.array_equal(np.asarray(grey)[..., 2], image[..., 0])


def test_topk_is_sorted_and_equals_torch_topk_of_the_logits(predictor):
    images = [random_image(seed=1), random_image(48, 36, seed=2)]
    results = predictor.topk(images, k=3)
    with torch.no_grad():
        logits = predictor.classifier(predictor.preprocess(images))
    probabilities, indices = logits.softmax(-1).topk(3)
    assert len(results) == 2
    for result, expected_indices, expected_probabilities in zip(results, indices, probabilities):
        assert [index for index, _ in result] == expected_indices.tolist()
        scores = [score for _, score in result]
        assert scores == sorted(scores, reverse=True)
        np.testing.assert_allclose(scores, expected_probabilities.numpy(), rtol=1e-6)
    assert results[0] != results[1]  # the images differ, so must the predictions


def test_feature_maps_are_the_levels_in_nchw(predictor):
    image = random_image(seed=3)
    levels = predictor.feature_maps(image)
    assert [tuple(level.shape) for level in levels] == [
        (1, 16, 8, 8), (1, 32, 4, 4), (1, 64, 2, 2), (1, 128, 1, 1)]
    with torch.no_grad():
        expected = predictor.classifier.forward_levels(predictor.preprocess(image))
    for level, reference in zip(levels, expected):
        torch.testing.assert_close(level, reference.permute(0, 3, 1, 2))


def test_from_variant_loads_our_checkpoint_and_the_published_evaluation_size(tmp_path,
                                                                            predictor):
    path = tmp_path / 'classifier.pth'
    state = {f'classifier.{k}': v for k, v in predictor.classifier.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {}}, path)
    loaded = Predictor.from_variant('internimage_t', checkpoint=path, **TINY)
    assert loaded.preprocess(random_image()).shape == (1, 3, 224, 224)
    images = predictor.preprocess(random_image())
    with torch.no_grad():
        torch.testing.assert_close(loaded.classifier(images), predictor.classifier(images))
    assert pretrained_cfg('internimage_l')[1:3] == (384, 1.0)
    # A model trained at another size is evaluated at that size: 40x60 -> the centre 40x40.
    resized = Predictor.from_variant('internimage_t', image_size=40, crop_pct=1.0, **TINY)
    image = random_image()
    expected = (image[:, 10:50] / 255 - MEAN) / STD
    torch.testing.assert_close(resized.preprocess(image)[0],
                               torch.from_numpy(expected.transpose(2, 0, 1)).float(),
                               rtol=0, atol=1e-5)


def test_bad_input_is_named(predictor, tmp_path):
    with pytest.raises(FileNotFoundError, match='image file not found: .*missing.jpg'):
        predictor.topk(str(tmp_path / 'missing.jpg'))
    with pytest.raises(TypeError, match='complex128 images are not supported'):
        predictor.preprocess(np.zeros((8, 8, 3), complex))
    with pytest.raises(ValueError, match=r'must be \(H, W, 3\) RGB or \(H, W\) grey'):
        predictor.preprocess(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(TypeError, match='got list'):
        predictor.preprocess([[1, 2, 3]])
    with pytest.raises(ValueError, match=r'k must be in \[1, 7\]'):
        predictor.topk(random_image(), k=8)
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        Predictor.from_variant('internimage_t', checkpoint=tmp_path / 'missing.pth', **TINY)
    with pytest.raises(KeyError, match="unknown InternImage variant 'internimage_x'"):
        Predictor.from_variant('internimage_x')


def test_a_variant_is_named_by_its_name_its_alias_or_a_released_tag(tmp_path, predictor):
    """Predictor.from_variant('t') once built the model, loaded the checkpoint and then failed
    with a bare KeyError: the alias now names the same variant, a released tag picks that
    release's preprocessing, and a name without a release fails before any weights are read."""
    path = tmp_path / 'classifier.pth'
    state = {f'classifier.{k}': v for k, v in predictor.classifier.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {}}, path)
    by_alias = Predictor.from_variant('t', checkpoint=path, **TINY)
    by_tag = Predictor.from_variant('internimage_t.in1k', checkpoint=path, **TINY)
    images = predictor.preprocess(random_image())
    with torch.no_grad():
        for loaded in (by_alias, by_tag):
            torch.testing.assert_close(loaded.classifier(images), predictor.classifier(images))
            assert loaded.preprocess(random_image()).shape == (1, 3, 224, 224)
    assert pretrained_cfg('h').input_size == 640
    assert pretrained_cfg('internimage_h.in22k_ft_in1k_384').input_size == 384
    with pytest.raises(KeyError, match=r"no released checkpoint 'internimage_t.in22k' of "
                                       r"internimage_t \(released: \['internimage_t.in1k'\]\)"):
        Predictor.from_variant('internimage_t.in22k', checkpoint=tmp_path / 'missing.pth')
    # the test variant has no release: it is evaluated at the size it is given
    tiny = Predictor.from_variant('internimage_test', image_size=40, crop_pct=1.0)
    assert tiny.preprocess(random_image()).shape == (1, 3, 40, 40)
