"""Checks of the DCNv4 kernels (the raw ``dcnv4`` and ``dcnv4_backward`` ops of a torch library)
against DCNv3's float64 reference, shared by the CPU and host-built CUDA kernel tests
(test_dcnv4_op.py) and the GPU tests (test_dcnv4_cuda.py). No pytest here."""
import torch

from dcnv3_cases import case_kwargs, make_inputs, offset_mask_of
from dcnv3_kernel_checks import (LOW_PRECISION, LOW_PRECISION_OFFSET_SCALE, TOLERANCE,
                                 assert_close)
from ops_dcnv3 import Geometry, dcnv3_reference

GARBAGE = float('nan')  # in the padding entries: reading one would show in the results


def kernel_results(ops, x, offset_mask, args, grad_output):
    return [ops.dcnv4(x, offset_mask, *args), *ops.dcnv4_backward(x, offset_mask, grad_output,
                                                                   *args)]


def reference_results(x, offset, mask, args, grad_output, width):
    """Output, grad_input and grad_offset_mask from DCNv3's float64 reference by autograd, the
    gradient laid out as offset_mask (zero in the padding)."""
    leaves = [t.detach().double().requires_grad_(True) for t in (x, offset, mask)]
    out = dcnv3_reference(*leaves, *args)
    out.backward(grad_output.double())
    group, points = args[8], (offset.shape[-1] // 2) // args[8]
    grad_offset_mask = offset_mask_of(leaves[1].grad, leaves[2].grad, group, points)
    assert grad_offset_mask.shape[-1] == width
    return [out.detach(), leaves[0].grad, grad_offset_mask]


def check_kernels(ops, device, case, dtype):
    """The raw dcnv4 and dcnv4_backward of ``ops`` on ``device`` against DCNv3's float64
    reference on the same rounded inputs, in output and both gradients; the padding entries of
    offset_mask (NaN) are never read, so their gradient is zero."""
    shapes, args = case_kwargs(case)
    if dtype in LOW_PRECISION:
        args = args[:10] + (LOW_PRECISION_OFFSET_SCALE,) + args[11:]
    x, offset, mask = make_inputs(dtype=dtype, **shapes)
    geometry = Geometry.from_args(*args, op='dcnv4')
    offset_mask = offset_mask_of(offset, mask, geometry.group, geometry.points, fill=GARBAGE)
    grad_output = torch.randn(*offset.shape[:3], x.shape[-1],
                              generator=torch.Generator().manual_seed(2)).to(dtype)
    actual = kernel_results(ops, *(t.to(device) for t in (x, offset_mask)), args,
                            grad_output.to(device))
    expected = reference_results(x, offset, mask, args, grad_output, offset_mask.shape[-1])
    for name, result, ref in zip(('output', 'grad_input', 'grad_offset_mask'), actual,
                                 expected):
        assert result.dtype == dtype and result.shape == ref.shape, name
        assert result.device.type == torch.device(device).type, name
        assert ref.abs().max() > 0, name
        assert_close(result, ref, TOLERANCE[dtype], name)
    padding = actual[2][..., geometry.group * geometry.points * 3:]
    assert not padding.any()  # never read, so no gradient
