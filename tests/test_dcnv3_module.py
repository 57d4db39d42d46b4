"""The DCNv3 modules: published state-dict names, both operator choices agree, torch.compile
traces the registered op without graph breaks, and the reference fallback works."""
import os
import shutil
import subprocess
import sys

import pytest
import torch

import ops_dcnv3
from ops_dcnv3 import DCNv3, DCNv3_pytorch
from ops_dcnv3.modules import softmax_over_points
from dcnv3_cases import perturbed

needs_extension = pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE,
                                     reason='compiled extension not built')


def test_state_dict_names_match_the_published_module():
    module = DCNv3(channels=64, group=4, center_feature_scale=True)
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert shapes == {
        'dw_conv.0.weight': (64, 1, 3, 3), 'dw_conv.0.bias': (64,),
        'dw_conv.1.1.weight': (64,), 'dw_conv.1.1.bias': (64,),
        'offset.weight': (72, 64), 'offset.bias': (72,),
        'mask.weight': (36, 64), 'mask.bias': (36,),
        'input_proj.weight': (64, 64), 'input_proj.bias': (64,),
        'output_proj.weight': (64, 64), 'output_proj.bias': (64,),
        'center_feature_scale_proj_weight': (4, 64), 'center_feature_scale_proj_bias': (4,),
    }
    without_center = DCNv3(channels=64, group=4, kernel_size=3, remove_center=True,
                           dw_kernel_size=5).state_dict()
    assert without_center['offset.weight'].shape == (4 * 8 * 2, 64)
    assert without_center['dw_conv.0.weight'].shape == (64, 1, 5, 5)


def test_published_initialisation():
    module = DCNv3(channels=32, group=4)
    for name in ('offset', 'mask'):
        assert torch.all(getattr(module, name).weight == 0)
        assert torch.all(getattr(module, name).bias == 0)
    assert torch.all(module.input_proj.bias == 0)
    assert module.input_proj.weight.abs().max() > 0


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64, torch.bfloat16])
def test_softmax_over_points_matches_torch_softmax(dtype):
    """The whole-tensor softmax the modules use on the CPU: values and gradients of
    torch.softmax (in float32 for bfloat16 logits, as autocast runs softmax)."""
    logits = (torch.randn(2, 5, 5, 4, 9, generator=torch.Generator().manual_seed(0)) * 30)
    logits = logits.to(dtype)
    logits[0, 0, 0, 0, 3] = 1e4  # one point dominating its row, which needs the max shift
    ours_in = logits.clone().requires_grad_(True)
    ref_in = logits.clone().to(torch.promote_types(dtype, torch.float32)).requires_grad_(True)
    ours, ref = softmax_over_points(ours_in), ref_in.softmax(-1)
    assert ours.dtype == ref.dtype
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(ours, ref, rtol=tol, atol=tol)
    assert ours[0, 0, 0, 0, 3] == 1
    grad = torch.randn(ours.shape, generator=torch.Generator().manual_seed(1), dtype=ours.dtype)
    ours.backward(grad)
    ref.backward(grad)
    torch.testing.assert_close(ours_in.grad.to(ref_in.grad.dtype), ref_in.grad,
                               rtol=1e-2 if dtype == torch.bfloat16 else tol, atol=tol)


@needs_extension
@pytest.mark.parametrize('options', [
    dict(), dict(center_feature_scale=True), dict(remove_center=True, offset_scale=2.0),
    dict(kernel_size=5, pad=2, dw_kernel_size=5, group=2)])
def test_compiled_and_reference_modules_agree(options):
    reference = perturbed(DCNv3_pytorch(channels=32, **{'group': 4, **options})).double()
    ours = DCNv3(channels=32, **{'group': 4, **options}).double()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(2, 9, 7, 32, dtype=torch.float64, requires_grad=True)
    expected = reference(x)
    torch.testing.assert_close(ours(x), expected)
    grad_ref, = torch.autograd.grad(expected.sum(), x)
    grad_ours, = torch.autograd.grad(ours(x).sum(), x)
    torch.testing.assert_close(grad_ours, grad_ref)


@needs_extension
def test_torch_compile_fullgraph():
    torch._dynamo.reset()
    module = perturbed(DCNv3(channels=16, group=2))
    x = torch.randn(2, 6, 6, 16, requires_grad=True)
    expected = module(x)
    grad_expected, = torch.autograd.grad(expected.sum(), x)
    compiled = torch.compile(module, fullgraph=True)
    out = compiled(x)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
    grad, = torch.autograd.grad(out.sum(), x)
    torch.testing.assert_close(grad, grad_expected, rtol=1e-4, atol=1e-5)


@needs_extension
def test_opcheck_registration():
    """torch.library's own consistency checks: schema, fake kernel, autograd registration."""
    from dcnv3_cases import make_inputs, op_args
    inputs = [t.requires_grad_(True) for t in make_inputs(n=1, height=4, width=4, group=2,
                                                          group_channels=3)]
    torch.library.opcheck(torch.ops.ops_dcnv3.dcnv3.default,
                          (*inputs, *op_args(group=2, group_channels=3)))


def test_missing_extension_falls_back_with_one_warning(tmp_path):
    """A copy of the package without the compiled library imports, warns once, and computes
    the same output as the reference."""
    package = os.path.dirname(ops_dcnv3.__file__)
    shutil.copytree(package, tmp_path / 'ops_dcnv3',
                    ignore=shutil.ignore_patterns('_C*.so', 'csrc', '__pycache__'))
    script = '''
import warnings
import torch
import ops_dcnv3
assert not ops_dcnv3.EXTENSION_AVAILABLE
module = ops_dcnv3.DCNv3(channels=8, group=2)
x = torch.randn(1, 5, 5, 8)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    out = module(x)
    module(x)
messages = [str(w.message) for w in caught if 'falling back' in str(w.message)]
assert len(messages) == 1, messages
assert 'not built' in messages[0], messages
reference = ops_dcnv3.DCNv3_pytorch(channels=8, group=2)
reference.load_state_dict(module.state_dict())
torch.testing.assert_close(out, reference(x))
print('fallback ok')
'''
    result = subprocess.run([sys.executable, '-c', script], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, 'PYTHONPATH': str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert 'fallback ok' in result.stdout


def assert_empty_batch_runs(model, image_shape):
    """An empty batch gives outputs of the shapes a batch of two gives, with N = 0, and a
    backward that leaves zero gradients of the input's shape and of every parameter."""
    x = torch.zeros(0, *image_shape, requires_grad=True)
    expected = [(0, *o.shape[1:]) for o in flat_outputs(model(torch.zeros(2, *image_shape)))]
    outputs = flat_outputs(model(x))
    assert [tuple(o.shape) for o in outputs] == expected
    sum(o.sum() for o in outputs).backward()
    assert x.grad.shape == x.shape
    for name, p in model.named_parameters():
        assert p.grad is None or torch.all(p.grad == 0), name


def flat_outputs(out):
    """A tensor or (nested) tuples of tensors as one list."""
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for item in out for t in flat_outputs(item)]


@pytest.mark.parametrize('module_type', [
    pytest.param(DCNv3, marks=needs_extension), DCNv3_pytorch])
@pytest.mark.parametrize('options', [dict(), dict(center_feature_scale=True, remove_center=True)])
def test_module_runs_an_empty_batch(module_type, options):
    assert_empty_batch_runs(perturbed(module_type(channels=16, group=2, **options)), (5, 6, 16))


def empty_batch_models():
    """Tiny versions of every model family: the conv-head and CLIP-head classifiers, the
    backbone, and the composite (CB) backbone."""
    from internimage.models import create_backbone, create_classifier
    from internimage.models.variants import arch_options
    from detection.cb_internimage import CBInternImage
    # H with the widths and depths of the test variant (which is T's shrunk)
    h_trunk = dict(arch_options('internimage_test'), level2_post_norm_block_ids=(0,))
    return {'classifier-T': create_classifier('internimage_test'),
            'classifier-H': create_classifier('internimage_h', **h_trunk),
            'backbone-T': create_backbone('internimage_test'),
            'backbone-H': create_backbone('internimage_h', **h_trunk),
            'cb-backbone': CBInternImage(arch='internimage_test')}


@needs_extension
def test_every_model_runs_an_empty_batch():
    for name, model in empty_batch_models().items():
        try:
            assert_empty_batch_runs(model, (3, 32, 32))
        except Exception as exc:
            raise AssertionError(f'{name}: {exc}') from exc


def test_head_pixel_shuffle_is_torchs():
    """The CLIP head's own PixelShuffle (torch's backward breaks on an empty batch) gives
    torch's values and gradients."""
    from internimage.models.heads import PixelShuffle
    x = torch.randn(2, 12, 3, 5, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 3, 6, 10, dtype=torch.float64)
    ours, = torch.autograd.grad((PixelShuffle(2)(x) * weight).sum(), x)
    reference, = torch.autograd.grad((torch.nn.PixelShuffle(2)(x) * weight).sum(), x)
    torch.testing.assert_close(PixelShuffle(2)(x), torch.nn.PixelShuffle(2)(x), rtol=0, atol=0)
    torch.testing.assert_close(ours, reference, rtol=0, atol=0)
