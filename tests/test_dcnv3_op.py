"""The compiled DCNv3 op (CPU) against the pure-PyTorch reference, which is the ground truth."""
import warnings

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import ops_dcnv3
from dcnv3_cases import CASE_IDS, CASES, case_kwargs, make_inputs, op_args
from dcnv3_kernel_checks import check_infinite_pixel, check_non_finite
from ops_dcnv3 import dcnv3, dcnv3_reference

pytestmark = pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE,
                                reason='compiled extension not built')


def compiled(*inputs_and_args):
    return torch.ops.ops_dcnv3.dcnv3(*inputs_and_args)


def grads(fn, inputs, args, grad_output):
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    fn(*leaves, *args).backward(grad_output)
    return [t.grad for t in leaves]


def assert_close(actual, expected, rtol, atol_scale):
    """Elementwise closeness with atol relative to the magnitude of the expected tensor."""
    atol = atol_scale * expected.abs().max().item() + 1e-12
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_forward_matches_reference(case, dtype):
    shapes, args = case_kwargs(case)
    inputs = make_inputs(dtype=dtype, **shapes)
    expected = dcnv3_reference(*inputs, *args)
    assert expected.abs().max() > 0
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    assert_close(compiled(*inputs, *args), expected, rtol=tol, atol_scale=tol)


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_backward_matches_reference(case, dtype):
    shapes, args = case_kwargs(case)
    inputs = make_inputs(dtype=dtype, **shapes)
    out = dcnv3_reference(*inputs, *args)
    grad_output = torch.randn(out.shape, generator=torch.Generator().manual_seed(1),
                              dtype=torch.float64).to(dtype)
    expected = grads(dcnv3_reference, inputs, args, grad_output)
    tol = 1e-9 if dtype == torch.float64 else 1e-4
    for name, actual, ref in zip(('input', 'offset', 'mask'),
                                 grads(dcnv3, inputs, args, grad_output), expected):
        assert ref.abs().max() > 0, name
        assert_close(actual, ref, rtol=tol, atol_scale=tol)


@pytest.mark.parametrize('remove_center', [False, True])
@pytest.mark.parametrize('stride', [1, 2])
def test_gradcheck_float64(remove_center, stride):
    kwargs = dict(n=2, height=5, width=4, group=2, group_channels=3, stride=stride,
                  remove_center=remove_center)
    inputs = [t.requires_grad_(True) for t in make_inputs(offset_range=3.0, **kwargs)]
    args = op_args(stride=stride, group=2, group_channels=3, offset_scale=1.5,
                   remove_center=remove_center)
    assert torch.autograd.gradcheck(lambda *t: dcnv3(*t, *args), inputs, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('gc', [16, 30, 71])
def test_low_precision_against_float32_reference(dtype, gc):
    inputs = make_inputs(group=2, group_channels=gc, dtype=dtype)
    # Coarse low-precision offsets times a dyadic scale often land exactly on pixel edges, where
    # the offset gradient is one-sided; a non-dyadic scale keeps the comparison well defined.
    args = op_args(group=2, group_channels=gc, offset_scale=1.37)
    as_float = [t.float() for t in inputs]  # same (rounded) values, float math
    expected = dcnv3_reference(*as_float, *args)
    actual = dcnv3(*inputs, *args)
    assert actual.dtype == dtype
    assert_close(actual.float(), expected, rtol=1e-2, atol_scale=1e-2)

    grad_output = torch.randn(expected.shape, generator=torch.Generator().manual_seed(2))
    expected_grads = grads(dcnv3_reference, as_float, args, grad_output)
    for actual, ref in zip(grads(dcnv3, inputs, args, grad_output.to(dtype)), expected_grads):
        assert actual.dtype == dtype
        assert_close(actual.float(), ref, rtol=2e-2, atol_scale=2e-2)


def test_im2col_step_only_chunks_the_batch():
    inputs = make_inputs(n=5)
    full = dcnv3_reference(*inputs, *op_args(im2col_step=64))
    for step in (1, 2, 5):
        torch.testing.assert_close(dcnv3_reference(*inputs, *op_args(im2col_step=step)), full)
        torch.testing.assert_close(dcnv3(*inputs, *op_args(im2col_step=step)), full)


def test_zero_offsets_with_one_hot_mask_pick_the_neighbour():
    """An independent check of the point order (x-major) and of the offset channel order:
    with a one-hot mask on point p, the output is the input shifted by that point's grid."""
    x, _, _ = make_inputs(n=1, height=5, width=6, group=1, group_channels=2)
    offset = torch.zeros(1, 5, 6, 18, dtype=x.dtype)
    for p in range(9):
        i, j = divmod(p, 3)  # x-major: p = i*kernel_h + j, i along W
        mask = torch.zeros(1, 5, 6, 9, dtype=x.dtype)
        mask[..., p] = 1
        out = dcnv3(x, offset, mask, *op_args(group=1, group_channels=2))
        shifted = torch.nn.functional.pad(x, (0, 0, 1, 1, 1, 1))[:, j:j + 5, i:i + 6]
        torch.testing.assert_close(out, shifted)


def test_offset_moves_samples_along_x_then_y():
    x, _, _ = make_inputs(n=1, height=5, width=6, group=1, group_channels=2)
    mask = torch.zeros(1, 5, 6, 1, dtype=x.dtype)
    mask[..., 0] = 1
    offset = torch.zeros(1, 5, 6, 2, dtype=x.dtype)
    offset[..., 0] = 2.0  # x: two pixels to the right
    offset[..., 1] = -1.0  # y: one pixel up
    out = dcnv3(x, offset, mask, *op_args(1, 1, 1, 0, 0, group=1, group_channels=2))
    torch.testing.assert_close(out[:, 1:, :4], x[:, :4, 2:])
    assert torch.all(out[:, 0] == 0) and torch.all(out[:, :, 4:] == 0)


def test_huge_and_out_of_range_offsets_sample_zeros():
    x, offset, mask = make_inputs()
    for value in (1e4, -1e4, 1e30, float('inf'), float('-inf')):
        out = dcnv3(x, torch.full_like(offset, value), mask, *op_args())
        assert torch.all(out == 0), value
        ref = dcnv3_reference(x, torch.full_like(offset, value), mask, *op_args())
        assert torch.all(ref == 0), value


def test_nan_propagates():
    x, offset, mask = make_inputs()
    bad_x = x.clone()
    bad_x[0, 3, 3, 0] = float('nan')
    bad_offset = offset.clone()
    bad_offset[1, 2, 2, 0] = float('nan')
    for fn in (dcnv3, dcnv3_reference):
        assert torch.isnan(fn(bad_x, offset, mask, *op_args())).any()
        out = fn(x, bad_offset, mask, *op_args())
        assert torch.isnan(out[1, 2, 2, :16]).all()  # group 0 of that pixel
        # ... and nowhere else (the CPU kernel reads its neighbours' offsets into unused lanes)
        assert torch.isnan(out).sum() == 16


def test_infinite_pixels_reach_only_the_samples_that_touch_them():
    """Samples outside the image must add zeros, not 0 * (a stored pixel): an inf in a corner
    pixel may only turn the outputs whose samples touch it into inf/NaN, exactly as in the
    reference."""
    x, offset, mask = make_inputs(offset_range=20.0, dtype=torch.float32)
    x[:, 0, 0, :] = float('inf')
    x[:, -1, -1, :] = float('-inf')
    out = dcnv3(x, offset, mask, *op_args())
    ref = dcnv3_reference(x, offset, mask, *op_args())
    finite = torch.isfinite(ref)
    assert 0 < finite.sum() < finite.numel()
    assert torch.equal(torch.isfinite(out), finite)
    torch.testing.assert_close(out[finite], ref[finite], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_nan_and_inf_offsets_and_masks_propagate_like_the_reference(dtype):
    """NaN/inf/-inf offsets and inf/-inf/NaN mask values give NaN and +-inf in the output and in
    all three gradients at exactly the reference's places (an inf mask times a sample is inf,
    not NaN; at a NaN offset the mask gradient is NaN), and the finite values agree."""
    check_non_finite(torch.ops.ops_dcnv3, 'cpu', dtype)


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_infinite_pixel_on_zero_weight_corners_like_the_reference(dtype):
    check_infinite_pixel(torch.ops.ops_dcnv3, 'cpu', dtype)


def test_zero_size_batch():
    x, offset, mask = (t[:0] for t in make_inputs())
    out = dcnv3(x, offset, mask, *op_args())
    assert out.shape == (0, 8, 8, 64)
    x.requires_grad_(True)
    dcnv3(x, offset, mask, *op_args()).sum().backward()
    assert x.grad.shape == x.shape


def test_non_contiguous_inputs_are_handled():
    x, offset, mask = make_inputs()
    expected = dcnv3(x, offset, mask, *op_args())
    # Same values, strided storage (e.g. slices of a wider tensor or transposed views).
    wide_x = torch.cat([x, x], dim=-1)[..., :64]
    x_t = x.transpose(1, 2).contiguous().transpose(1, 2)
    assert not wide_x.is_contiguous() and not x_t.is_contiguous()
    torch.testing.assert_close(dcnv3(wide_x, offset, mask, *op_args()), expected)
    torch.testing.assert_close(dcnv3(x_t, offset.transpose(1, 2).contiguous().transpose(1, 2),
                                     mask, *op_args()), expected)


def test_autocast_runs_the_op_in_the_autocast_dtype():
    # what AMP training feeds the op: projections in bfloat16, the softmax'd mask in float32
    x, offset, mask = make_inputs(dtype=torch.float32)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = dcnv3(x.bfloat16(), offset.bfloat16(), mask, *op_args())
    assert out.dtype == torch.bfloat16
    expected = dcnv3_reference(x.double(), offset.bfloat16().double(),
                               mask.bfloat16().double(), *op_args())
    assert torch.allclose(out.double(), expected, rtol=2e-2, atol=2e-4)
    with pytest.raises(TypeError, match='mask has dtype torch.float32'):
        dcnv3(x.bfloat16(), offset.bfloat16(), mask, *op_args())  # outside autocast


def small_double_backward_inputs(stride=1, remove_center=False):
    """Inputs small enough for gradgradcheck's full numerical Jacobians, and their op args."""
    kwargs = dict(n=1, height=3, width=4, group=1, group_channels=2, stride=stride,
                  remove_center=remove_center)
    inputs = [t.requires_grad_(True) for t in make_inputs(offset_range=3.0, **kwargs)]
    return inputs, op_args(stride=stride, group=1, group_channels=2, offset_scale=1.5,
                           remove_center=remove_center)


@pytest.mark.parametrize('remove_center', [False, True])
@pytest.mark.parametrize('stride', [1, 2])
def test_gradgradcheck_float64(remove_center, stride):
    """Double backward (create_graph=True, then backward again) gives the numerical second
    derivatives, without the dispatcher's 'no autograd kernel' warning it used to give with
    all-zero results."""
    inputs, args = small_double_backward_inputs(stride, remove_center)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        # fast_mode: along random directions, a second instead of 20 on 2 cores
        assert torch.autograd.gradgradcheck(lambda *t: dcnv3(*t, *args), inputs, eps=1e-6,
                                            atol=1e-6, fast_mode=True)



def second_order_grads(fn, inputs, args):
    """Gradients of a scalar of the first-order gradients (taken with create_graph=True)."""
    out = fn(*inputs, *args)
    weight = torch.randn(out.shape, generator=torch.Generator().manual_seed(3), dtype=out.dtype)
    first = torch.autograd.grad((out * weight).sum(), inputs, create_graph=True)
    return torch.autograd.grad(sum((g ** 2).sum() for g in first), inputs)


def test_double_backward_matches_the_reference():
    inputs, args = small_double_backward_inputs()
    expected_grads = second_order_grads(dcnv3_reference, inputs, args)
    for name, actual, expected in zip(('input', 'offset', 'mask'),
                                      second_order_grads(dcnv3, inputs, args), expected_grads):
        assert expected.abs().max() > 0, name
        assert_close(actual, expected, rtol=1e-9, atol_scale=1e-9)


class CalledOps(TorchDispatchMode):
    """Records the name of every op the dispatcher runs inside the mode."""

    def __init__(self):
        super().__init__()
        self.names = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.add(func.name())
        return func(*args, **(kwargs or {}))


def test_plain_backward_runs_the_kernels_create_graph_the_reference():
    """The first-order fast path is unchanged; only create_graph=True takes the
    differentiable reference, and both give the same gradients."""
    inputs, args = small_double_backward_inputs()
    out = dcnv3(*inputs, *args)
    grad_output = torch.randn(out.shape, generator=torch.Generator().manual_seed(4),
                              dtype=out.dtype)
    with CalledOps() as differentiable_ops:
        differentiable = torch.autograd.grad(out, inputs, grad_output, create_graph=True,
                                             retain_graph=True)
    with CalledOps() as plain_ops:
        plain = torch.autograd.grad(out, inputs, grad_output)
    assert 'ops_dcnv3::dcnv3_backward' in plain_ops.names
    assert not any('grid_sampler' in name for name in plain_ops.names)
    assert 'ops_dcnv3::dcnv3_backward' not in differentiable_ops.names
    assert all(g.requires_grad for g in differentiable)
    for actual, expected in zip(differentiable, plain):
        assert_close(actual, expected, rtol=1e-9, atol_scale=1e-9)
