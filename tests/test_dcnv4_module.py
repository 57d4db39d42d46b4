"""The DCNv4 module (docs/operator.md, "DCNv4"): the published state-dict names and shapes
(OpenGVLab/DCNv4, DCNv4/modules/dcnv4.py), its forward worked out from the published one, the
compiled and reference forms agreeing, its errors, and its ONNX export."""
import math

import onnxruntime
import pytest
import torch
import torch.nn.functional as F

import ops_dcnv3
from dcnv3_cases import perturbed
from ops_dcnv3 import DCNv4, DCNv4_pytorch, dcnv4_reference
from ops_dcnv3.onnx import export_onnx


def published_names(channels, group, kernel_size=3, remove_center=False, dw_kernel_size=None,
                    center_feature_scale=False, output_bias=True, without_pointwise=False):
    """The published module's parameters, from its __init__: offset_mask a Linear to
    ceil(K*3/8)*8 outputs with K = group*(kernel_size**2 - remove_center); the depthwise conv
    offset_mask_dw only with dw_kernel_size; value_proj and output_proj (bias=output_bias)
    unless without_pointwise; the centre-feature-scale weight (group, channels) and bias
    (group,)."""
    k = group * (kernel_size * kernel_size - int(remove_center))
    names = {}
    if center_feature_scale:
        names['center_feature_scale_proj_weight'] = (group, channels)
        names['center_feature_scale_proj_bias'] = (group,)
    if dw_kernel_size is not None:
        names['offset_mask_dw.weight'] = (channels, 1, dw_kernel_size, dw_kernel_size)
        names['offset_mask_dw.bias'] = (channels,)
    names['offset_mask.weight'] = (int(math.ceil(k * 3 / 8) * 8), channels)
    names['offset_mask.bias'] = (int(math.ceil(k * 3 / 8) * 8),)
    if not without_pointwise:
        names.update({'value_proj.weight': (channels, channels), 'value_proj.bias': (channels,),
                      'output_proj.weight': (channels, channels)})
        if output_bias:
            names['output_proj.bias'] = (channels,)
    return names


OPTIONS = {
    'default': dict(),
    'dw3': dict(dw_kernel_size=3),
    'all': dict(dw_kernel_size=5, center_feature_scale=True, remove_center=True,
                output_bias=False),
    'without pointwise': dict(without_pointwise=True, dw_kernel_size=3),
}


@pytest.mark.parametrize('options', OPTIONS.values(), ids=OPTIONS.keys())
def test_state_dict_names_and_shapes_are_the_published(options):
    module = DCNv4(channels=40, group=5, **options)
    assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == \
        published_names(40, 5, **options)


def published_forward(module, x, shape):
    """The published DCNv4.forward, written out on the module's weights with the reference op."""
    n, length, channels = x.shape
    height, width = shape
    value = x if module.without_pointwise else F.linear(x, module.value_proj.weight,
                                                        module.value_proj.bias)
    value = value.reshape(n, height, width, -1)
    source = x
    if module.dw_kernel_size is not None:
        source = module.offset_mask_dw(x.view(n, height, width, channels).permute(0, 3, 1, 2))
        source = source.permute(0, 2, 3, 1).reshape(n, length, channels)
    offset_mask = module.offset_mask(source).reshape(n, height, width, -1)
    k = module.kernel_size
    y = dcnv4_reference(value, offset_mask, k, k, 1, 1, module.pad, module.pad, 1, 1,
                        module.group, channels // module.group, module.offset_scale, 256,
                        module.remove_center)
    if module.center_feature_scale:
        scale = F.linear(y, module.center_feature_scale_proj_weight,
                         module.center_feature_scale_proj_bias).sigmoid()
        scale = scale[..., None].repeat(1, 1, 1, 1, channels // module.group).flatten(-2)
        y = y * (1 - scale) + value * scale
    y = y.view(n, length, -1)
    if not module.without_pointwise:
        y = module.output_proj(y)
    return y


@pytest.mark.parametrize('options', OPTIONS.values(), ids=OPTIONS.keys())
def test_forward_is_the_published_forward(options):
    torch.manual_seed(0)
    module = perturbed(DCNv4_pytorch(channels=24, group=3, offset_scale=1.5, **options).double())
    x = torch.randn(2, 5 * 7, 24, dtype=torch.float64)
    expected = published_forward(module, x, (5, 7))
    torch.testing.assert_close(module(x, (5, 7)), expected)
    # the same as a channels-last image
    torch.testing.assert_close(module(x.reshape(2, 5, 7, 24)), expected.reshape(2, 5, 7, 24))


@pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE, reason='the compiled op is not built')
def test_compiled_and_reference_modules_agree_and_share_weights():
    torch.manual_seed(1)
    reference = perturbed(DCNv4_pytorch(channels=32, group=2, dw_kernel_size=3))
    module = DCNv4(channels=32, group=2, dw_kernel_size=3)
    module.load_state_dict(reference.state_dict())
    x = torch.randn(2, 36, 32, requires_grad=True)
    out = module(x)  # 36 tokens: a 6x6 image
    out.square().sum().backward()
    x_ref = x.detach().clone().requires_grad_(True)
    reference(x_ref).square().sum().backward()
    torch.testing.assert_close(out, reference(x_ref), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-4, atol=1e-5)


def test_a_fresh_module_gives_its_output_projection_bias():
    """The published initialisation zeroes offset_mask: every mask value is 0, so the op gives
    zeros and the block starts as the output projection's bias."""
    module = DCNv4(channels=16, group=2)
    torch.nn.init.normal_(module.output_proj.bias)
    out = module(torch.randn(1, 9, 16))
    torch.testing.assert_close(out, module.output_proj.bias.expand(1, 9, 16).detach())


BAD_INPUTS = {
    'not a square': ((2, 12, 16), None, 'an input of 12 tokens is not a square image'),
    'shape mismatch': ((2, 12, 16), (3, 5), r'shape \(3, 5\) has 15 pixels but the input has 12'),
    'channels': ((2, 9, 8), None, r'expected \(N, L, 16\)'),
    'NHWC shape mismatch': ((2, 3, 4, 16), (4, 3), r'shape \(4, 3\) does not match the NHWC input'),
}


@pytest.mark.parametrize('shape, image, message', BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_inputs_are_named(shape, image, message):
    with pytest.raises(ValueError, match=f'DCNv4: {message}'):
        DCNv4(channels=16, group=2)(torch.randn(shape), image)


@pytest.mark.parametrize('options, message', [
    (dict(channels=30, group=4), r'channels \(30\) must be divisible by group \(4\)'),
    (dict(stride=2), 'stride=2, kernel_size=3 and pad=1'),
    (dict(dw_kernel_size=4), r'dw_kernel_size \(4\) must be odd'),
    (dict(kernel_size=4, pad=0), 'stride=1, kernel_size=4 and pad=0'),
])
def test_bad_construction_is_named(options, message):
    with pytest.raises(ValueError, match=f'DCNv4: {message}'):
        DCNv4(**{'channels': 32, 'group': 4, **options})


def test_group_channels_not_a_multiple_of_16_work():
    """The published module asserts channels/group % 16 == 0 (its CUDA kernels' limit); here
    every group width works."""
    module = perturbed(DCNv4_pytorch(channels=15, group=3))
    assert module(torch.randn(1, 16, 15)).shape == (1, 16, 15)


def test_onnx_export_of_the_portable_form_runs_in_onnxruntime(tmp_path):
    torch.manual_seed(2)
    model = perturbed(DCNv4(channels=16, group=2, dw_kernel_size=3)).eval()
    path = str(tmp_path / 'dcnv4.onnx')
    export_onnx(model, (torch.randn(1, 6, 7, 16),), path, input_names=['x'],
                dynamic_axes={'x': {0: 'n', 1: 'h', 2: 'w'}})
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    x = torch.randn(2, 5, 9, 16)
    (out,) = session.run(None, {'x': x.numpy()})
    torch.testing.assert_close(torch.from_numpy(out), model(x).detach(), rtol=1e-4, atol=1e-5)


def test_onnx_plugin_form_is_refused_for_dcnv4(tmp_path):
    with pytest.raises(ValueError, match="DCNv4 modules have no 'plugin' export form"):
        export_onnx(DCNv4(channels=16, group=2), (torch.randn(1, 4, 4, 16),),
                    str(tmp_path / 'x.onnx'), mode='plugin')
