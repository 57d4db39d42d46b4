"""InternImage as Hugging Face transformers models (internimage/hf_models.py): a folder in the
published hub repos' layout (their config.json fields, weights under ``model.`` with
``layer_scale1/2``) loads through the Auto classes without remote code and computes as our
classifier; ``save_pretrained`` writes that layout back; the configuration of a variant equals
the published config.json; the image processor has the published settings."""
import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModel, AutoModelForImageClassification

from internimage import hf_models
from internimage.models import create_classifier
from dcnv3_cases import perturbed

# classification/huggingface/22k_model/internimage_l_22k_384/config.json, published
PUBLISHED_L_22K = {
    'act_layer': 'GELU', 'center_feature_scale': False, 'channels': 160, 'cls_scale': 1.5,
    'core_op': 'DCNv3', 'depths': [5, 5, 22, 5], 'drop_path_rate': 0.0,
    'drop_path_type': 'linear', 'drop_rate': 0.0, 'dw_kernel_size': None,
    'groups': [10, 20, 40, 80], 'layer_scale': 1e-05, 'level2_post_norm': False,
    'level2_post_norm_block_ids': None, 'mlp_ratio': 4.0, 'model_type': 'internimage',
    'norm_layer': 'LN', 'num_classes': 21841, 'offset_scale': 2.0, 'post_norm': True,
    'remove_center': False, 'res_post_norm': False, 'use_clip_projector': False,
    'with_cp': False}
# in1k_model/internimage_t_1k_224/preprocessor_config.json (and l_22kto1k_384's, at 384)
PUBLISHED_PREPROCESSOR = dict(do_resize=True, do_center_crop=True, do_normalize=True,
                              resample=3, image_mean=[0.485, 0.456, 0.406],
                              image_std=[0.229, 0.224, 0.225])


def published_folder(folder, classifier, **config):
    """What the published conversion wrote for ``classifier``: config.json and the weights
    under ``model.`` with gamma1/2 renamed layer_scale1/2."""
    fields = hf_models.InternImageConfig.from_variant('internimage_test', **config).to_dict()
    (folder / 'config.json').write_text(json.dumps(dict(fields, architectures=[
        'InternImageModel'])))
    save_file({'model.' + k.replace('gamma1', 'layer_scale1').replace('gamma2', 'layer_scale2'):
               v.contiguous() for k, v in classifier.state_dict().items()},
              str(folder / 'model.safetensors'))
    return folder


@pytest.fixture(scope='module')
def classifier():
    """The test variant with layer scales (as T..G have), which the hub layout renames."""
    torch.manual_seed(0)
    return perturbed(create_classifier('internimage_test', num_classes=7,
                                       layer_scale=1.0)).eval()


def test_the_configuration_of_a_variant_is_the_published_one():
    config = hf_models.InternImageConfig.from_variant('internimage_l', num_classes=21841)
    fields = config.to_dict()
    assert {k: fields[k] for k in PUBLISHED_L_22K} == PUBLISHED_L_22K
    assert isinstance(AutoConfig.for_model('internimage'), hf_models.InternImageConfig)


def test_a_published_layout_folder_loads_and_computes_as_our_classifier(tmp_path, classifier):
    folder = published_folder(tmp_path, classifier, num_classes=7, layer_scale=1.0)
    images = torch.randn(2, 3, 64, 64)
    model = AutoModelForImageClassification.from_pretrained(str(folder)).eval()
    assert type(model) is hf_models.InternImageForImageClassification
    with torch.no_grad():
        output = model(images, labels=torch.tensor([1, 6]))
        torch.testing.assert_close(output.logits, classifier(images))
        expected_loss = torch.nn.functional.cross_entropy(classifier(images),
                                                          torch.tensor([1, 6]))
        torch.testing.assert_close(output.loss, expected_loss)
        backbone = AutoModel.from_pretrained(str(folder)).eval()
        assert type(backbone) is hf_models.InternImageModel
        features = backbone(images)
        levels = classifier.forward_levels(images)
        assert len(features.hidden_states) == 4
        for level, hidden in zip(levels, features.hidden_states):
            torch.testing.assert_close(hidden, level.permute(0, 3, 1, 2))
        torch.testing.assert_close(features.last_hidden_state, features.hidden_states[-1])
        torch.testing.assert_close(features.pooler_output, classifier.forward_features(images))


def test_save_pretrained_writes_the_published_layout_back(tmp_path, classifier):
    (tmp_path / 'in').mkdir()
    model = AutoModelForImageClassification.from_pretrained(
        str(published_folder(tmp_path / 'in', classifier, num_classes=7,
                                         layer_scale=1.0)))
    model.save_pretrained(str(tmp_path / 'out'))
    saved = load_file(str(tmp_path / 'out' / 'model.safetensors'))
    published = load_file(str(tmp_path / 'in' / 'model.safetensors'))
    assert set(saved) == set(published)
    assert any('layer_scale1' in k for k in saved) and not any('gamma' in k for k in saved)
    config = json.loads((tmp_path / 'out' / 'config.json').read_text())
    assert config['model_type'] == 'internimage' and config['num_classes'] == 7
    again = AutoModelForImageClassification.from_pretrained(str(tmp_path / 'out')).eval()
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(again(images).logits, classifier(images))


def test_the_attention_pooling_head_of_h_and_g(tmp_path):
    torch.manual_seed(0)
    ours = perturbed(create_classifier('internimage_test', num_classes=5,
                                       use_clip_projector=True)).eval()
    folder = published_folder(tmp_path, ours, num_classes=5, use_clip_projector=True)
    model = AutoModelForImageClassification.from_pretrained(str(folder)).eval()
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(images).logits, ours(images))


@pytest.mark.parametrize('release, size', [('internimage_t.in1k', 224),
                                           ('internimage_l.in22k_ft_in1k', 384)])
def test_the_image_processor_has_the_published_settings(release, size):
    processor = hf_models.image_processor(release)
    assert processor.size['shortest_edge'] == size
    assert (processor.crop_size['height'], processor.crop_size['width']) == (size, size)
    for name, value in PUBLISHED_PREPROCESSOR.items():
        found = getattr(processor, name)
        assert (list(found) if isinstance(value, list) else found) == value, name
    pixels = processor(images=torch.randint(0, 256, (3, 300, 400), dtype=torch.uint8),
                       return_tensors='pt').pixel_values
    assert pixels.shape == (1, 3, size, size)


def test_fields_no_release_used_are_refused():
    with pytest.raises(ValueError, match="InternImageConfig.cls_scale=2.0 is not supported"):
        hf_models.InternImageForImageClassification(
            hf_models.InternImageConfig.from_variant('internimage_test', cls_scale=2.0))
