"""InternImage in timm (internimage/timm_models.py): every variant registered with the released
checkpoints as pretrained configs; timm's generic model checks (those of timm's
tests/test_models.py: forward, backward into every parameter, default-cfg fields, the
classifier reset with and without pooling, features_only channels and reductions,
forward_intermediates) on the tiny variants and the attention-pooling head; a release file in
the published layout loaded through ``pretrained_cfg_overlay`` gives our classifier's logits."""
import pytest
import timm
import torch

from internimage import timm_models
from internimage.models import create_classifier
from internimage.models.variants import ARCHS, PRETRAINED
from dcnv3_cases import perturbed

TINY = ['internimage_test', 'flash_internimage_test']
# the tiny trunk with the H/G attention-pooling head (token map at stride 16)
CLIP_HEAD = ('internimage_test', dict(use_clip_projector=True))
MODELS = [(name, {}) for name in TINY] + [CLIP_HEAD]
IDS = TINY + ['clip_head']
SIZE = 64


def create(name, options, **kwargs):
    torch.manual_seed(0)
    return timm.create_model(name, **options, **kwargs)


def test_every_variant_and_release_is_registered():
    assert timm.models.is_model('internimage_t') and timm_models.internimage_t.__module__ == \
        'internimage.timm_models'
    assert set(timm.list_models('*internimage*')) == set(ARCHS)
    assert set(timm.list_models('*internimage*', pretrained=True)) == set(PRETRAINED)
    for key, release in PRETRAINED.items():
        cfg = timm.models.get_pretrained_cfg(key)
        assert cfg.url == release.url and cfg.url.startswith('https://huggingface.co/OpenGVLab/')
        assert cfg.input_size == (3, release.input_size, release.input_size)
        assert (cfg.crop_pct, cfg.interpolation) == (release.crop_pct, release.interpolation)
        assert cfg.num_classes == (release.num_classes or 0)


@pytest.mark.parametrize('name', sorted(ARCHS))
def test_default_cfg_names_are_the_model_s_parameters(name):
    """timm's test_model_default_cfgs, the names part, for every variant (built on the meta
    device: H and G have over a billion parameters)."""
    with torch.device('meta'):
        model = timm.create_model(name)
    names = set(model.state_dict())
    cfg = model.pretrained_cfg
    assert cfg['classifier'] + '.weight' in names
    assert cfg['first_conv'] + '.weight' in names
    stride = cfg['input_size'][-1] // cfg['pool_size'][-1]
    assert stride == (16 if ARCHS[name].get('use_clip_projector') else 32)


@pytest.mark.parametrize('name, options', MODELS, ids=IDS)
def test_forward_and_backward_reach_every_parameter(name, options):
    model = create(name, options, num_classes=42).train()
    outputs = model(torch.randn(2, 3, SIZE, SIZE))
    assert outputs.shape == (2, 42) and not outputs.isnan().any()
    outputs.mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, missing


@pytest.mark.parametrize('name, options', MODELS, ids=IDS)
def test_features_head_and_classifier_reset(name, options):
    """timm's test_model_default_cfgs, the forward part."""
    model = create(name, options).eval()
    images = torch.randn(1, 3, SIZE, SIZE)
    stride = 16 if model.use_clip_projector else 32  # of the map the head pools
    with torch.no_grad():
        features = model.forward_features(images)
        assert features.shape == (1, model.num_features, SIZE // stride, SIZE // stride)
        logits = model(images)
        torch.testing.assert_close(model.forward_head(features), logits)
        pre_logits = model.forward_head(features, pre_logits=True)
        assert pre_logits.shape == (1, model.head_hidden_size)
        torch.testing.assert_close(model.get_classifier()(pre_logits), logits)
        model.reset_classifier(0)
        assert model(images).shape == (1, model.head_hidden_size)
        model.reset_classifier(0, '')
        unpooled = model(images)
        assert unpooled.ndim == 4 and unpooled.shape[-2:] == (SIZE // stride, SIZE // stride)
        model.reset_classifier(3, 'avg')
        assert model(images).shape == (1, 3)


@pytest.mark.parametrize('name', TINY)
def test_features_only_gives_the_levels_with_their_channels_and_strides(name):
    """timm's test_model_forward_features, and out_indices."""
    model = create(name, {}, features_only=True).eval()
    assert model.feature_info.channels() == [16, 32, 64, 128]
    assert model.feature_info.reduction() == [4, 8, 16, 32]
    with torch.no_grad():
        outputs = model(torch.randn(2, 3, SIZE, SIZE))
    for channels, stride, output in zip(model.feature_info.channels(),
                                        model.feature_info.reduction(), outputs):
        assert output.shape == (2, channels, SIZE // stride, SIZE // stride)
        assert not output.isnan().any()
    some = create(name, {}, features_only=True, out_indices=(1, 3)).eval()
    assert some.feature_info.channels() == [32, 128]
    assert len(some.model.levels) == 4 and not hasattr(some.model.head, 'weight')  # pruned head
    with torch.no_grad():
        torch.testing.assert_close(some(torch.ones(1, 3, SIZE, SIZE)),
                                   [o for i, o in enumerate(
                                       model(torch.ones(1, 3, SIZE, SIZE))) if i in (1, 3)])


@pytest.mark.parametrize('name, options', MODELS, ids=IDS)
def test_forward_intermediates_are_the_levels(name, options):
    model = create(name, options).eval()
    images = torch.randn(1, 3, SIZE, SIZE)
    with torch.no_grad():
        final, intermediates = model.forward_intermediates(images)
        torch.testing.assert_close(final, model.forward_features(images))
        levels = model.forward_levels(images)
        assert len(intermediates) == 4
        for level, intermediate in zip(levels, intermediates):
            torch.testing.assert_close(intermediate, level.permute(0, 3, 1, 2))
        last_two = model.forward_intermediates(images, indices=2, intermediates_only=True)
        torch.testing.assert_close(last_two, intermediates[2:])
        assert [t.shape[1] for t in model.forward_intermediates(
            images, indices=[0], stop_early=True)[1]] == [16]
    with pytest.raises(ValueError, match="output_fmt must be 'NCHW'"):
        model.forward_intermediates(images, output_fmt='NHWC')


def test_a_release_file_loads_through_the_overlay_and_computes_as_our_classifier(tmp_path):
    """A checkpoint in the published layout ({'model': ...}, as the released files): timm's
    pretrained path reads it through our loader, and the model computes our classifier's
    logits."""
    torch.manual_seed(0)
    ours = perturbed(create_classifier('internimage_test', num_classes=1000)).eval()
    path = tmp_path / 'internimage_test_release.pth'
    torch.save({'model': ours.state_dict(), 'epoch': 3}, path)
    model = timm.create_model('internimage_test', pretrained=True,
                              pretrained_cfg_overlay=dict(file=str(path))).eval()
    images = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        torch.testing.assert_close(model(images), ours(images))
    features = timm.create_model('internimage_test', pretrained=True, features_only=True,
                                 pretrained_cfg_overlay=dict(file=str(path))).eval()
    with torch.no_grad():
        torch.testing.assert_close(features(images)[-1],
                                   ours.forward_levels(images)[-1].permute(0, 3, 1, 2))
    torch.save({'model': {k: v for k, v in ours.state_dict().items()
                          if not k.startswith('levels.3')}}, tmp_path / 'partial.pth')
    with pytest.raises(ValueError, match='does not fit internimage_test.*missing'):
        timm.create_model('internimage_test', pretrained=True,
                          pretrained_cfg_overlay=dict(file=str(tmp_path / 'partial.pth')))


def test_timm_options_in_our_names():
    model = timm.create_model('internimage_test', in_chans=1, num_classes=5, drop_path_rate=0.1)
    assert model(torch.randn(2, 1, SIZE, SIZE)).shape == (2, 5)
    with pytest.raises(ValueError, match='drop_rate: the InternImage heads have no dropout'):
        timm.create_model('internimage_test', drop_rate=0.2)
    with pytest.raises(ValueError, match="global_pool must be 'avg' or ''"):
        timm.create_model('internimage_test', global_pool='max')
