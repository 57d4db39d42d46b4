"""The InternImage backbone and classifier: published parameter counts and state-dict names for
every variant, forward shapes, the block formulas, both DCNv3 operators agree, freezing, gradient
checkpointing and input/config errors. Big models are built on the meta device."""
import pytest
import torch

import ops_dcnv3
from internimage.models import InternImage, create_backbone, create_classifier, internimage_t
from internimage.models.factory import internimage_test
from internimage.models.variants import ARCHS, PUBLISHED_VARIANTS, arch_options
from dcnv3_cases import perturbed
from internimage.models.layers import InternImageLayer

needs_extension = pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE,
                                     reason='compiled DCNv3 extension not built')

# The published parameter counts (docs/architecture.md, Variants), as printed: (value, significant digits).
PUBLISHED_PARAMS = {
    'internimage_t': (30e6, 2), 'internimage_s': (50e6, 2), 'internimage_b': (97e6, 2),
    'internimage_l': (223e6, 3), 'internimage_xl': (335e6, 3), 'internimage_h': (1.08e9, 3),
    'internimage_g': (3e9, 1),
}


def tiny_overrides(name):
    """Shrinks a variant (16 channels per group everywhere, few blocks) but keeps every option
    it has: post-norm, layer scale, res-post-norm, level-2 post-norms, centre feature scale,
    dw kernel 5, offset scale, and the CLIP-projector head."""
    overrides = dict(arch_options('internimage_test'), depths=(1, 1, 2, 1))
    if arch_options(name).get('level2_post_norm'):
        overrides['level2_post_norm_block_ids'] = (1,)
    return overrides


def num_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize('name', PUBLISHED_VARIANTS)
def test_classifier_parameter_count_matches_published(name):
    """Within 1% of the published count; for a count published to fewer digits than that
    (G: '3B', one significant digit), within half a unit of its last digit, the most its
    rounding can hide. H comes out at 1.0896B, 0.9% above its published 1.08B."""
    with torch.device('meta'):
        model = create_classifier(name)
    published, digits = PUBLISHED_PARAMS[name]
    half_unit = 0.5 * 10 ** (len(str(int(published))) - digits)
    tolerance = max(0.01 * published, half_unit)
    assert abs(num_params(model) - published) <= tolerance, num_params(model)


# Which optional parameters each variant has (docs/architecture.md, Variants and Blocks).
EXPECTED_KEYS = {
    # name: (level norm, layer scale, res-post-norm, level-2 post-norms, centre scale, clip head)
    'internimage_t': (True, False, False, False, False, False),
    'internimage_s': (False, True, False, False, False, False),
    'internimage_b': (False, True, False, False, False, False),
    'internimage_l': (False, True, False, False, False, False),
    'internimage_xl': (False, True, False, False, False, False),
    'internimage_h': (True, False, True, True, True, True),
    'internimage_g': (True, False, False, True, True, True),
}


@pytest.mark.parametrize('name', PUBLISHED_VARIANTS)
def test_state_dict_names_match_published(name):
    with torch.device('meta'):
        model = create_classifier(name)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    config = arch_options(name)
    c, depths = config['channels'], config['depths']
    cf = c * 8
    level_norm, layer_scale, res_post_norm, post_norms, center_scale, clip = EXPECTED_KEYS[name]
    block = 'levels.1.blocks.0.'

    assert shapes['patch_embed.conv1.weight'] == (c // 2, 3, 3, 3)
    assert shapes['patch_embed.norm1.1.weight'] == (c // 2,)
    assert shapes['patch_embed.norm2.1.bias'] == (c,)
    dw = config.get('dw_kernel_size', 3)
    assert shapes[block + 'dcn.dw_conv.0.weight'] == (2 * c, 1, dw, dw)
    assert shapes[block + 'dcn.dw_conv.1.1.weight'] == (2 * c,)
    assert shapes[block + 'dcn.offset.weight'] == (config['groups'][1] * 18, 2 * c)
    assert shapes[block + 'norm1.0.weight'] == (2 * c,)
    assert shapes[block + 'norm2.0.weight'] == (2 * c,)
    assert shapes[block + 'mlp.fc1.weight'] == (8 * c, 2 * c)
    assert shapes[block + 'mlp.fc2.weight'] == (2 * c, 8 * c)
    for i in range(3):
        assert shapes[f'levels.{i}.downsample.conv.weight'] == (2 * c * 2 ** i, c * 2 ** i, 3, 3)
        assert shapes[f'levels.{i}.downsample.norm.1.weight'] == (2 * c * 2 ** i,)
        assert f'levels.{i}.downsample.conv.bias' not in shapes
    assert not any(k.startswith('levels.3.downsample') for k in shapes)
    assert f'levels.{len(depths) - 1}.blocks.{depths[-1] - 1}.mlp.fc2.bias' in shapes
    assert f'levels.3.blocks.{depths[-1]}.mlp.fc2.bias' not in shapes

    assert ('levels.0.norm.0.weight' in shapes) == level_norm
    assert ('levels.3.norm.0.weight' in shapes) == level_norm
    assert (block + 'gamma1' in shapes) == layer_scale
    assert (block + 'gamma2' in shapes) == layer_scale
    assert (block + 'res_post_norm1.0.weight' in shapes) == res_post_norm
    assert (block + 'res_post_norm2.0.bias' in shapes) == res_post_norm
    assert ('levels.2.post_norms.0.0.weight' in shapes) == post_norms
    assert (block + 'dcn.center_feature_scale_proj_weight' in shapes) == center_scale
    if post_norms:
        ids = config['level2_post_norm_block_ids']
        assert f'levels.2.post_norms.{len(ids) - 1}.0.weight' in shapes
        assert f'levels.2.post_norms.{len(ids)}.0.weight' not in shapes
        assert not any(k.startswith(('levels.1.post_norms', 'levels.3.post_norms'))
                       for k in shapes)
    if center_scale:
        groups = config['groups'][1]
        assert shapes[block + 'dcn.center_feature_scale_proj_weight'] == (groups, 2 * c)
        assert shapes[block + 'dcn.center_feature_scale_proj_bias'] == (groups,)

    if clip:
        assert shapes['dcnv3_head_x4.0.weight'] == (4096, cf, 1, 1)
        assert shapes['dcnv3_head_x3.weight'] == (1024, cf // 2, 1, 1)
        for name_ in ('q', 'k', 'v'):
            assert shapes[f'clip_projector.norm1_{name_}.0.weight'] == (1024,)
            assert shapes[f'clip_projector.cross_dcn.{name_}.weight'] == (1024, 1024)
            assert shapes[f'clip_projector.cross_dcn.{name_}_bias'] == (1024,)
            assert f'clip_projector.cross_dcn.{name_}.bias' not in shapes
        assert shapes['clip_projector.cross_dcn.proj.weight'] == (768, 1024)
        assert shapes['fc_norm.0.weight'] == (768,)
        assert shapes['head.weight'] == (1000, 768)
        assert not any(k.startswith('conv_head') for k in shapes)
    else:
        hidden = int(cf * 1.5)
        assert shapes['conv_head.0.weight'] == (hidden, cf, 1, 1)
        assert 'conv_head.0.bias' not in shapes
        assert shapes['conv_head.1.0.weight'] == (hidden,)
        assert shapes['conv_head.1.0.running_var'] == (hidden,)
        assert shapes['head.weight'] == (1000, hidden)
        assert not any(k.startswith(('clip_projector', 'fc_norm', 'dcnv3_head')) for k in shapes)


@pytest.mark.parametrize('name', sorted(ARCHS))
def test_full_size_forward_shapes_on_meta(name):
    """Every variant of the record, the unpublished test variant included."""
    with torch.device('meta'):
        classifier = create_classifier(name, num_classes=10)
        logits = classifier(torch.empty(2, 3, 224, 224))
        backbone = create_backbone(name, out_indices=(0, 1, 2, 3))
        features = backbone(torch.empty(1, 3, 224, 224))
    assert logits.shape == (2, 10)
    c = arch_options(name)['channels']
    assert [tuple(f.shape) for f in features] == [
        (1, c, 56, 56), (1, 2 * c, 28, 28), (1, 4 * c, 14, 14), (1, 8 * c, 7, 7)]


@pytest.mark.parametrize('name', PUBLISHED_VARIANTS)
def test_reduced_width_variants_run(name):
    torch.manual_seed(0)
    model = create_classifier(name, num_classes=7, **tiny_overrides(name)).eval()
    with torch.no_grad():
        logits = model(torch.randn(2, 3, 64, 64))
        pooled = model.forward_features(torch.randn(2, 3, 64, 64))
    assert logits.shape == (2, 7)
    assert torch.isfinite(logits).all()
    assert pooled.shape == (2, model.pooled_features)
    headless = create_classifier(name, num_classes=0, **tiny_overrides(name))
    assert headless(torch.randn(1, 3, 64, 64)).shape == (1, model.pooled_features)


def test_backbone_features_and_wiring_attributes():
    backbone = create_backbone('internimage_test', out_indices=(1, 3))
    features = backbone(torch.randn(2, 3, 96, 128))
    assert backbone.out_channels == (32, 128)
    assert backbone.out_strides == (8, 32)
    assert [tuple(f.shape) for f in features] == [(2, 32, 12, 16), (2, 128, 3, 4)]
    assert all(f.is_contiguous() for f in features)


def test_backbone_features_are_the_levels_before_downsampling():
    torch.manual_seed(0)
    backbone = create_backbone('internimage_test').eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        features = backbone(x)
        stem = backbone.patch_embed(x)
        level0, _ = backbone.levels[0](stem)
    torch.testing.assert_close(features[0], level0.permute(0, 3, 1, 2))


def test_stochastic_depth_is_linear_over_all_blocks():
    with torch.device('meta'):
        model = internimage_t(drop_path_rate=0.3)
    rates = [getattr(block.drop_path, 'drop_prob', 0.0)
             for level in model.levels for block in level.blocks]
    assert len(rates) == 30
    torch.testing.assert_close(torch.tensor(rates, dtype=torch.float64),
                               torch.linspace(0, 0.3, 30, dtype=torch.float64))


@pytest.mark.parametrize('options', [
    dict(), dict(post_norm=True), dict(res_post_norm=True), dict(layer_scale=0.5),
    dict(layer_scale=0.5, post_norm=True)])
def test_block_formulas(options):
    """The residual forms of docs/architecture.md (Blocks), from the block's own sub-modules."""
    torch.manual_seed(0)
    block = perturbed(InternImageLayer(ops_dcnv3.DCNv3_pytorch, channels=8, groups=2,
                                       **options)).eval()
    x = torch.randn(2, 5, 5, 8)

    def branch(x, fn, norm, res_norm, gamma):
        y = norm(fn(x)) if options.get('post_norm') else fn(norm(x))
        if options.get('res_post_norm'):
            y = res_norm(y)
        return x + (gamma * y if gamma is not None else y)

    with torch.no_grad():
        expected = branch(x, block.dcn, block.norm1, block.res_post_norm1, block.gamma1)
        expected = branch(expected, block.mlp, block.norm2, block.res_post_norm2, block.gamma2)
        torch.testing.assert_close(block(x), expected)
    assert (block.gamma1 is not None) == ('layer_scale' in options)


def test_layer_scale_initial_value():
    model = internimage_t(layer_scale=1e-5, depths=(1, 1, 1, 1))
    assert torch.all(model.levels[0].blocks[0].gamma1 == 1e-5)


@needs_extension
@pytest.mark.parametrize('name', ['internimage_t', 'internimage_l', 'internimage_h',
                                  'internimage_g'])
def test_compiled_and_reference_operators_agree(name):
    overrides = tiny_overrides(name)
    torch.manual_seed(0)
    reference = perturbed(create_classifier(name, core_op='DCNv3_pytorch', num_classes=5,
                                            **overrides)).double().eval()
    ours = create_classifier(name, core_op='DCNv3', num_classes=5, **overrides).double().eval()
    ours.load_state_dict(reference.state_dict())
    offsets = reference.levels[0].blocks[0].dcn.offset(torch.randn(3, 16).double())
    assert offsets.abs().min() > 0
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


def test_remove_center_variant_runs_on_both_operators():
    torch.manual_seed(0)
    reference = perturbed(internimage_test(core_op='DCNv3_pytorch', remove_center=True))
    reference = reference.double().eval()
    assert reference.state_dict()['levels.0.blocks.0.dcn.mask.weight'].shape == (8, 16)
    ours = internimage_test(core_op='DCNv3', remove_center=True).double().eval()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(1, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x))


@pytest.mark.parametrize('core_op', ['DCNv3', 'DCNv3_pytorch'])
def test_use_dcn_v4_op_gives_the_same_model_on_the_dcnv4_op(core_op):
    """The published option packs the DCNv3 modules' offsets and softmax-normalised masks into
    DCNv4's offset_mask and runs the DCNv4 op: the same state dict, the same outputs and
    gradients (center_feature_scale and remove_center included)."""
    torch.manual_seed(0)
    options = dict(core_op=core_op, center_feature_scale=True, remove_center=True,
                   dw_kernel_size=5)
    plain = perturbed(internimage_test(**options)).double()
    v4 = internimage_test(use_dcn_v4_op=True, **options).double()
    v4.load_state_dict(plain.state_dict())
    assert all(block.dcn.use_dcn_v4_op for level in v4.levels for block in level.blocks)
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    outputs = [model(x) for model in (plain, v4)]
    torch.testing.assert_close(outputs[1], outputs[0])
    for model, out in zip((plain, v4), outputs):
        out.square().sum().backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), v4.named_parameters()):
        torch.testing.assert_close(b.grad, a.grad, msg=name)


def test_frozen_stages_freeze_the_stem_and_levels():
    backbone = create_backbone('internimage_test', frozen_stages=2)
    backbone.train()
    frozen = [backbone.patch_embed, backbone.levels[0], backbone.levels[1]]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    for module in backbone.levels[2:]:
        assert all(p.requires_grad for p in module.parameters())
        assert all(m.training for m in module.modules())
    features = backbone(torch.randn(1, 3, 64, 64))
    sum(f.sum() for f in features).backward()
    assert backbone.patch_embed.conv1.weight.grad is None
    assert backbone.levels[2].blocks[0].mlp.fc1.weight.grad is not None


def test_frozen_stages_zero_freezes_only_the_stem():
    backbone = create_backbone('internimage_test', frozen_stages=0)
    assert not any(p.requires_grad for p in backbone.patch_embed.parameters())
    assert all(p.requires_grad for p in backbone.levels.parameters())


def test_norm_eval_keeps_batch_norms_in_eval_mode():
    backbone = create_backbone('internimage_test', norm_layer='BN', norm_eval=True)
    backbone.train()
    norms = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(not m.training for m in norms)
    assert backbone.levels[0].blocks[0].training


def test_gradient_checkpointing_gives_the_same_gradients():
    options = dict(depths=(1, 2, 1, 1), drop_path_rate=0.2, core_op='DCNv3_pytorch',
                   num_classes=4)
    torch.manual_seed(0)
    plain = perturbed(internimage_test(**options)).double()
    checkpointed = internimage_test(with_cp=True, **options).double()
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    grads = []
    for model in (plain, checkpointed):
        torch.manual_seed(1)
        model.zero_grad()
        model(x).square().sum().backward()
        grads.append({k: p.grad.clone() for k, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for key in grads[0]:
        torch.testing.assert_close(grads[1][key], grads[0][key], msg=key)


def test_gradient_checkpointing_really_checkpoints():
    model = internimage_test(with_cp=True)
    calls = []
    block = model.levels[0].blocks[0]
    block.mlp.register_forward_pre_hook(lambda *args: calls.append(1))
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert len(calls) == 2  # forward, then the recomputation during backward


def test_unknown_variant_name():
    with pytest.raises(KeyError, match='internimage_q'):
        create_classifier('internimage_q')


def test_unknown_config_key():
    with pytest.raises(TypeError, match='chanels'):
        internimage_t(chanels=32)
    with pytest.raises(TypeError, match='out_indices'):
        internimage_t(out_indices=(1,))  # a backbone option, not a classifier one
    with pytest.raises(TypeError, match='num_classes'):
        create_backbone('internimage_t', num_classes=3)
    with pytest.raises(TypeError, match='bogus'):
        InternImage(bogus=1)


def test_wrong_input_channels():
    model = internimage_test()
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\).*\(1, 4, 64, 64\)'):
        model(torch.randn(1, 4, 64, 64))
    with pytest.raises(ValueError, match='image batch'):
        model(torch.randn(3, 64, 64))
    gray = internimage_test(in_channels=1)
    assert gray(torch.randn(1, 1, 64, 64)).shape == (1, 1000)


@pytest.mark.parametrize('options, message', [
    (dict(core_op='DCNv9'), 'core_op'),
    (dict(depths=(1, 1, 1)), 'one entry per level'),
    (dict(level2_post_norm=True), 'level2_post_norm_block_ids'),
    (dict(level2_post_norm=True, level2_post_norm_block_ids=(18,)), 'must lie in'),
    (dict(post_norm=True, res_post_norm=True), 'exclusive'),
    (dict(channels=30), 'divisible'),
])
def test_bad_configurations(options, message):
    with pytest.raises(ValueError, match=message):
        with torch.device('meta'):
            internimage_t(**options)


@pytest.mark.parametrize('options, message', [
    (dict(out_indices=(4,)), 'out_indices'), (dict(out_indices=()), 'out_indices'),
    (dict(frozen_stages=5), 'frozen_stages')])
def test_bad_backbone_options(options, message):
    with pytest.raises(ValueError, match=message):
        with torch.device('meta'):
            create_backbone('internimage_t', **options)


def test_published_initialisation():
    model = internimage_t(depths=(1, 1, 1, 1), layer_scale=None)
    dcn = model.levels[1].blocks[0].dcn
    assert torch.all(dcn.offset.weight == 0) and torch.all(dcn.mask.bias == 0)
    fc1 = model.levels[1].blocks[0].mlp.fc1
    assert torch.all(fc1.bias == 0) and 0.018 < fc1.weight.std() < 0.022
    assert torch.all(model.head.bias == 0) and 0.018 < model.head.weight.std() < 0.022

