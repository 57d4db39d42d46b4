"""FlashInternImage (InternImage on DCNv4, OpenGVLab/DCNv4 classification/models/
flash_intern_image.py): every published variant has the published state-dict names and shapes
(../shared/published/keys_flash, made from the published model code), the blocks are the
published ones on the DCNv4 module, the compiled and reference operators agree, and the
backbone serves detection and segmentation as InternImage's does."""
import pytest
import torch

from dcnv3_cases import perturbed
from internimage.models import (FLASH_VARIANTS, FlashInternImage, FlashInternImageClassifier,
                                create_backbone, create_classifier)
from ops_dcnv3 import DCNv4
from published_data import read_key_list

# variant: (published key list, its published class options read from the list's first line)
KEY_LISTS = {'flash_internimage_t': 'flash_intern_image_t_1k_224',
             'flash_internimage_s': 'flash_intern_image_s_1k_224',
             'flash_internimage_b': 'flash_intern_image_b_1k_224',
             'flash_internimage_l': 'flash_intern_image_l_22kto1k_384'}
# Published parameter counts (README of OpenGVLab/DCNv4): 30M, 50M, 97M, 223M.
PUBLISHED_MILLIONS = {'flash_internimage_t': 30, 'flash_internimage_s': 50,
                      'flash_internimage_b': 97, 'flash_internimage_l': 223}


@pytest.mark.parametrize('name', FLASH_VARIANTS)
def test_state_dict_is_the_published_one(name):
    with torch.device('meta'):
        model = create_classifier(name)
    assert isinstance(model, FlashInternImageClassifier)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    published = read_key_list(KEY_LISTS[name], folder='keys_flash')
    assert list(ours) == list(published)
    assert ours == published
    millions = sum(p.numel() for p in model.parameters()) / 1e6
    assert round(millions) == PUBLISHED_MILLIONS[name]


def tiny(**options):
    return FlashInternImageClassifier(arch='flash_internimage_test', num_classes=5, **options)


def test_blocks_run_dcnv4_with_the_published_options():
    """Every block's deformable module is a DCNv4 with FlashInternImage's arguments (3x3, no
    output bias unless dcn_output_bias, the variant's dw_kernel_size and offset_scale) and the
    MLP's fc2 has no bias unless mlp_fc2_bias."""
    model = tiny(offset_scale=1.5)
    blocks = [b for level in model.levels for b in level.blocks]
    assert all(isinstance(b.dcn, DCNv4) for b in blocks)
    dcn = blocks[0].dcn
    assert (dcn.kernel_size, dcn.pad, dcn.offset_scale, dcn.dw_kernel_size) == (3, 1, 1.5, 3)
    assert dcn.output_proj.bias is None and blocks[0].mlp.fc2.bias is None
    with_biases = tiny(dcn_output_bias=True, mlp_fc2_bias=True)
    block = with_biases.levels[0].blocks[0]
    assert block.dcn.output_proj.bias is not None and block.mlp.fc2.bias is not None


def test_class_defaults_without_arch_are_the_published_ones():
    """FlashInternImage() alone: DCNv4, offset_scale 0.5, no DCN output or fc2 bias, as the
    published FlashInternImage class."""
    with torch.device('meta'):
        model = FlashInternImageClassifier(channels=16, depths=(1, 1, 1, 1),
                                           groups=(1, 2, 4, 8))
    dcn = model.levels[0].blocks[0].dcn
    assert isinstance(dcn, DCNv4) and dcn.offset_scale == 0.5
    assert dcn.output_proj.bias is None and model.levels[0].blocks[0].mlp.fc2.bias is None


@pytest.mark.parametrize('option', [dict(center_feature_scale=True), dict(remove_center=True),
                                    dict(use_dcn_v4_op=True)])
def test_options_dcnv4_does_not_take_are_refused(option):
    name = next(iter(option))
    with pytest.raises(ValueError, match=f'{name}=True is not an option of the DCNv4 core'):
        tiny(**option)


def test_compiled_and_reference_operators_agree():
    torch.manual_seed(0)
    reference = perturbed(tiny(core_op='DCNv4_pytorch')).double().eval()
    ours = tiny().double().eval()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


def test_backbone_declares_its_outputs_and_loads_a_classifier_checkpoint(tmp_path):
    torch.manual_seed(1)
    classifier = perturbed(tiny())
    path = tmp_path / 'flash_test.pth'
    torch.save({'model': classifier.state_dict()}, path)
    backbone = create_backbone('flash_internimage_test', out_indices=(1, 2, 3),
                               init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    assert isinstance(backbone, FlashInternImage)
    backbone.init_weights()
    assert tuple(backbone.out_channels) == (32, 64, 128)
    assert tuple(backbone.out_strides) == (8, 16, 32)
    for key, value in backbone.state_dict().items():
        torch.testing.assert_close(value, classifier.state_dict()[key], msg=key)
    features = backbone(torch.randn(1, 3, 64, 64))
    assert [tuple(f.shape) for f in features] == [(1, 32, 8, 8), (1, 64, 4, 4), (1, 128, 2, 2)]


def test_arch_keys_are_aliases_within_the_family():
    with torch.device('meta'):
        assert isinstance(FlashInternImage(arch='t').levels[0].blocks[0].dcn, DCNv4)
        assert FlashInternImage(arch='t').level_channels == (64, 128, 256, 512)
        assert FlashInternImage(arch='l').levels[0].blocks[0].dcn.offset_scale == 2.0


@pytest.mark.parametrize('name, file', [
    ('flash_internimage_t', 'flash_intern_image_t_1k_224.pth'),
    ('flash_internimage_l', 'flash_internimage_l_22kto1k_384.pth')])
def test_released_classifiers_are_recorded_where_published(name, file):
    from internimage.models import pretrained_cfg
    released = pretrained_cfg(name)
    assert released.url == 'https://huggingface.co/OpenGVLab/DCNv4/resolve/main/' + file
    assert released.num_classes == 1000


@pytest.mark.parametrize('name', FLASH_VARIANTS)
def test_variant_options_are_those_the_key_lists_were_built_with(name):
    """The first line of each key list names the published class options it was built with
    (from the published yaml over config.py's defaults); every option it states is ours."""
    import ast
    import re
    from internimage.models import arch_options
    from published_data import needs_published
    header = needs_published(f'keys_flash/{KEY_LISTS[name]}.txt').read_text().splitlines()[0]
    published = ast.literal_eval(re.search(r'(\{.*\})', header).group(1))
    import inspect
    from internimage.models import InternImageTrunk
    trunk_defaults = {k: p.default for k, p in inspect.signature(
        InternImageTrunk.__init__).parameters.items() if p.default is not inspect.Parameter.empty}
    ours = {**trunk_defaults, **FlashInternImageClassifier.family_defaults, **arch_options(name)}
    for option, value in published.items():
        expected = tuple(value) if isinstance(value, list) else value
        assert ours[option] == expected, option
    # every variant states offset_scale (the published yaml default 1.0, the class default 0.5)
    assert 'offset_scale' in arch_options(name)
