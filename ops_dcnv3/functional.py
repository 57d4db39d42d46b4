"""The public DCNv3 function and its registration with torch.library: a fake (meta) kernel so
torch.compile and export can trace it, and autograd, registered once for every device
(docs/operator.md, "Registration")."""
import torch

from . import _extension
from ._checks import check_tensors, check_types
from .geometry import Geometry
from .reference import dcnv3_reference_op


@torch.compiler.assume_constant_result
def _has_autocast(device_type):
    """Whether the device type has autocast at all (the meta device has not). A constant of the
    device type, so that torch.compile need not trace the C++ query (torch 2.11 cannot)."""
    return torch.amp.is_autocast_available(device_type)


def _autocast_inputs(input, offset, mask):
    """Under autocast the linear projections feeding the op return the autocast dtype while the
    softmax-normalised mask stays float32; the op then runs in the autocast dtype, as matmuls
    do. Outside autocast mixed dtypes stay an error (check_tensors)."""
    device_type = input.device.type
    if not (_has_autocast(device_type) and torch.is_autocast_enabled(device_type)):
        return input, offset, mask
    dtype = torch.get_autocast_dtype(device_type)
    return input.to(dtype), offset.to(dtype), mask.to(dtype)


def dcnv3(input, offset, mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
          dilation_w, group, group_channels, offset_scale, im2col_step, remove_center=False):
    """Deformable sampling of docs/operator.md ("Semantics") on channels-last tensors, with the
    published op's flat arguments ("Arguments").

    input (N, H, W, group*group_channels), offset (N, H_out, W_out, group*P*2) as [g][p][x, y],
    mask (N, H_out, W_out, group*P) (already normalised by the caller); returns
    (N, H_out, W_out, group*group_channels). Runs the compiled kernels when they are built and
    the pure-PyTorch reference otherwise; under autocast, in the autocast dtype.
    """
    return dcnv3_op(input, offset, mask, Geometry.from_args(
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, group,
        group_channels, offset_scale, im2col_step, remove_center))


def dcnv3_op(input, offset, mask, geometry):
    """``dcnv3`` on a Geometry (validated when it was built), e.g. one a module keeps."""
    check_types(input, offset, mask)  # before autocast reads their devices
    input, offset, mask = _autocast_inputs(input, offset, mask)
    check_tensors(input, offset, mask, geometry)
    if _extension.AVAILABLE:
        return torch.ops.ops_dcnv3.dcnv3(input, offset, mask, *geometry.op_args())
    _extension.warn_fallback()
    return dcnv3_reference_op(input, offset, mask, geometry)


def _differentiable_grads(input, offset, mask, grad_output, geometry):
    """The op's three gradients as a differentiable function of its inputs and grad_output, for
    double backward (``create_graph=True``): the backward kernels have no derivative of their
    own, so the gradients come from the reference, whose grid_sample has one. The same values
    as the kernels (tests/test_dcnv3_op.py), slower; plain backward keeps the kernels."""
    leaves = [t if t.requires_grad else t.detach().requires_grad_(True)
              for t in (input, offset, mask)]
    out = dcnv3_reference_op(*leaves, geometry)
    return torch.autograd.grad(out, leaves, grad_output, create_graph=True)


def _register():
    @torch.library.register_fake('ops_dcnv3::dcnv3')
    def _dcnv3_fake(input, offset, mask, *geometry_args):
        height_out, width_out = check_tensors(input, offset, mask,
                                              Geometry.from_args(*geometry_args))
        return input.new_empty(input.shape[0], height_out, width_out, input.shape[3])

    @torch.library.register_fake('ops_dcnv3::dcnv3_backward')
    def _dcnv3_backward_fake(input, offset, mask, grad_output, *geometry_args):
        check_tensors(input, offset, mask, Geometry.from_args(*geometry_args))
        return torch.empty_like(input), torch.empty_like(offset), torch.empty_like(mask)

    def setup_context(ctx, inputs, output):
        input, offset, mask, *geometry_args = inputs
        ctx.save_for_backward(input, offset, mask)
        ctx.geometry_args = geometry_args

    def backward(ctx, grad_output):
        input, offset, mask = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: the gradients must be differentiable too
            grads = _differentiable_grads(input, offset, mask, grad_output,
                                          Geometry.from_args(*ctx.geometry_args))
        else:
            grads = torch.ops.ops_dcnv3.dcnv3_backward(input, offset, mask,
                                                       grad_output.contiguous(),
                                                       *ctx.geometry_args)
        # the geometry is not differentiable
        return (*grads, *([None] * len(ctx.geometry_args)))

    torch.library.register_autograd('ops_dcnv3::dcnv3', backward, setup_context=setup_context)


if _extension.AVAILABLE:
    _register()
