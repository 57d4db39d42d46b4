"""Checks of a DCNv3 kernel (the raw ``dcnv3`` and ``dcnv3_backward`` ops of a torch library)
against the float64 reference and the CPU kernel, shared by the CUDA kernels' tests on a GPU
(test_dcnv3_cuda.py) and on the host (test_dcnv3_cuda_host.py). No pytest here:
test_dcnv3_cuda.py also runs without it."""
import torch

from dcnv3_cases import case_kwargs, make_inputs, op_args
from ops_dcnv3 import dcnv3_reference

TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 2e-2,
             torch.bfloat16: 3e-2}
LOW_PRECISION = (torch.float16, torch.bfloat16)
# Coarse low-precision offsets times a dyadic scale often land exactly on pixel edges, where the
# offset gradient is one-sided; a non-dyadic scale keeps the comparison well defined.
LOW_PRECISION_OFFSET_SCALE = 1.37
RESULTS = ('output', 'grad_input', 'grad_offset', 'grad_mask')


def raw_results(ops, inputs, args, grad_output):
    """Output and the three gradients of the library's raw ops."""
    return [ops.dcnv3(*inputs, *args), *ops.dcnv3_backward(*inputs, grad_output, *args)]


def reference_results(inputs, args, grad_output):
    """Output and the three gradients of the reference, by autograd."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = dcnv3_reference(*leaves, *args)
    out.backward(grad_output.to(out.dtype))
    return [out.detach()] + [t.grad for t in leaves]


def assert_close(actual, expected, tol, name=''):
    """Elementwise closeness in float64 with atol relative to the expected magnitude."""
    atol = tol * expected.abs().max().item() + 1e-12
    torch.testing.assert_close(actual.double().cpu(), expected.double().cpu(), rtol=tol,
                               atol=atol, msg=lambda m: f'{name}: {m}')


def assert_same_values(actual, expected, tol, name=''):
    """NaN, +inf and -inf at the same places, the finite values close."""
    actual, expected = actual.double().cpu(), expected.double().cpu()
    for kind in ('isnan', 'isposinf', 'isneginf'):
        where = getattr(actual, kind)()
        assert torch.equal(where, getattr(expected, kind)()), (
            f'{name}: {kind} at {where.nonzero().tolist()}, reference at '
            f'{getattr(expected, kind)().nonzero().tolist()}')
    finite = torch.isfinite(expected)
    assert_close(actual[finite], expected[finite], tol, name)


def non_finite_inputs(dtype=torch.float64):
    """Inputs (2x6x6 images, G=2, gc=3, 3x3) and op arguments with a NaN, an inf and a -inf
    offset, and inf, -inf and NaN mask values at samples inside the image (their offsets
    fractional, so that bilinear weights are 0 nowhere) and an inf mask at a sample far outside
    it."""
    args = op_args(group=2, group_channels=3)
    x, offset, mask = make_inputs(n=2, height=6, width=6, group=2, group_channels=3,
                                  offset_range=4.0)
    offset = offset.reshape(2, 6, 6, 2, 9, 2)
    mask = mask.reshape(2, 6, 6, 2, 9)
    offset[0, 1, 1, 0, 2, 0] = float('nan')
    offset[0, 2, 3, 1, 4, 1] = float('inf')
    offset[1, 4, 2, 0, 7, 0] = float('-inf')
    for (n, h, w, grp, p), value in {(0, 2, 2, 0, 4): float('inf'),
                                     (1, 3, 2, 1, 0): float('-inf'),
                                     (1, 1, 4, 0, 8): float('nan')}.items():
        offset[n, h, w, grp, p] = torch.tensor([0.3, -0.2], dtype=offset.dtype)
        mask[n, h, w, grp, p] = value
    offset[0, 4, 4, 1, 3] = 1e4
    mask[0, 4, 4, 1, 3] = float('inf')
    inputs = [x, offset.reshape(2, 6, 6, 36), mask.reshape(2, 6, 6, 18)]
    return [t.to(dtype) for t in inputs], args


def op_and_reference(ops, device, inputs, args, output_shape, seed):
    """(the raw ops' results on ``device``, the float64 reference's on the same rounded
    ``inputs``) for a seeded random output gradient of ``output_shape``."""
    grad_output = torch.randn(*output_shape, generator=torch.Generator().manual_seed(seed),
                              dtype=torch.float64)
    expected = reference_results([t.double() for t in inputs], args, grad_output)
    actual = raw_results(ops, [t.to(device) for t in inputs], args,
                         grad_output.to(device, inputs[0].dtype))
    return actual, expected


def check_non_finite(ops, device, dtype=torch.float64):
    """NaN and infinite offsets and mask values reach the output and the gradients exactly
    where they reach the reference's (float64, on the same rounded inputs)."""
    inputs, args = non_finite_inputs(dtype)
    actual, expected = op_and_reference(ops, device, inputs, args, (2, 6, 6, 6), seed=4)
    for name, result, ref in zip(RESULTS, actual, expected):
        assert not torch.isfinite(ref).all(), name
        assert_same_values(result, ref, TOLERANCE[dtype], name)


def check_infinite_pixel(ops, device, dtype):
    """One infinite pixel, a 1x1 kernel and zero offsets: every sample lies exactly on a pixel,
    and the infinite one is a corner of weight 0 of the samples of its up, left and up-left
    neighbours. The op gives there what the reference gives (grid_sample's 0 * inf, NaN), in the
    output and all three gradients, and the same values elsewhere; only the finite offset
    gradients may differ, since at a pixel the derivative is one-sided and the reference's
    normalised grid may take either side."""
    args = op_args(1, 1, 1, 0, 0, group=1, group_channels=2)
    x, offset, mask = make_inputs(n=1, height=5, width=5, kernel_h=1, kernel_w=1, pad_h=0,
                                  pad_w=0, group=1, group_channels=2)
    x[0, 2, 2] = float('inf')
    inputs = [t.to(dtype) for t in (x, torch.zeros_like(offset), mask)]
    actual, expected = op_and_reference(ops, device, inputs, args, (1, 5, 5, 2), seed=5)
    for name, result, ref in zip(RESULTS, actual, expected):
        if name == 'grad_offset':
            assert torch.equal(result.isfinite().cpu(), ref.isfinite()), name
        else:
            assert_same_values(result, ref, TOLERANCE[dtype], name)
    assert expected[0][0, 1:3, 1:3, 0].isnan().tolist() == [[True, True], [True, False]]


def case_inputs(case, dtype):
    """The inputs and op arguments of one case of dcnv3_cases.CASES in dtype."""
    shapes, args = case_kwargs(case)
    if dtype in LOW_PRECISION:
        args = args[:10] + (LOW_PRECISION_OFFSET_SCALE,) + args[11:]
    return make_inputs(dtype=dtype, **shapes), args


def check_against_reference_and_cpu(ops, device, inputs, args):
    """ops on device against the float64 reference (on the same rounded inputs) and against
    the CPU kernel, in forward and all three gradients."""
    dtype = inputs[0].dtype
    exact = [t.double() for t in inputs]
    grad_output = torch.randn(dcnv3_reference(*exact, *args).shape,
                              generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expected = reference_results(exact, args, grad_output)
    actual = raw_results(ops, [t.to(device) for t in inputs], args,
                         grad_output.to(device, dtype))
    on_cpu = raw_results(torch.ops.ops_dcnv3, inputs, args, grad_output.to(dtype))
    for name, result, cpu, ref in zip(RESULTS, actual, on_cpu, expected):
        assert result.dtype == dtype and result.device.type == torch.device(device).type, name
        assert ref.abs().max() > 0, name
        assert_close(result, ref, TOLERANCE[dtype], name)
        assert_close(result, cpu, TOLERANCE[dtype], name)


def check_case(ops, device, case, dtype):
    check_against_reference_and_cpu(ops, device, *case_inputs(case, dtype))


def check_large_group_channels(ops, device, gc):
    """group_channels above 1024, the most threads a CUDA block may have."""
    inputs = make_inputs(n=1, height=6, width=5, group=2, group_channels=gc, dtype=torch.float32)
    check_against_reference_and_cpu(ops, device, inputs, op_args(group=2, group_channels=gc))
