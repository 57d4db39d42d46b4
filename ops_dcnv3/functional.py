"""The public DCNv3 and DCNv4 functions and their registration with torch.library: a fake (meta)
kernel so that torch.compile and export can trace each op, and autograd, registered once for
every device (docs/operator.md, "Registration" and "DCNv4")."""
from dataclasses import dataclass
from typing import Callable

import torch

from . import _extension
from ._checks import check_tensors, check_tensors_v4, check_types
from .geometry import TENSOR_ARGS, TENSOR_ARGS_V4, Geometry
from .reference import dcnv3_reference_op, dcnv4_reference_op


@torch.compiler.assume_constant_result
def _has_autocast(device_type):
    """Whether the device type has autocast at all (the meta device has not). A constant of the
    device type, so that torch.compile need not trace the C++ query (torch 2.11 cannot)."""
    return torch.amp.is_autocast_available(device_type)


def _autocast_inputs(*tensors):
    """Under autocast the linear projections feeding the op return the autocast dtype while the
    softmax-normalised mask stays float32; the op then runs in the autocast dtype, as matmuls
    do. Outside autocast mixed dtypes stay an error (check_tensors)."""
    device_type = tensors[0].device.type
    if not (_has_autocast(device_type) and torch.is_autocast_enabled(device_type)):
        return tensors
    dtype = torch.get_autocast_dtype(device_type)
    return tuple(t.to(dtype) for t in tensors)


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


def dcnv4(input, offset_mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
          dilation_w, group, group_channels, offset_scale, im2col_step, remove_center=False):
    """DCNv4 (docs/operator.md, "DCNv4"): DCNv3's sampling with the offsets and mask values in one
    tensor, offset_mask (N, H_out, W_out, D), D = group*P*3 or its round-up to a multiple of 8;
    group g's P (x, y) pairs at entry g*3P, its P mask values (used as given) after them. Same
    flat arguments, dtypes, fallback and autocast as ``dcnv3``."""
    return dcnv4_op(input, offset_mask, Geometry.from_args(
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, group,
        group_channels, offset_scale, im2col_step, remove_center, op='dcnv4'))


def dcnv3_op(input, offset, mask, geometry):
    """``dcnv3`` on a Geometry (validated when it was built), e.g. one a module keeps."""
    return _run(DCNV3, (input, offset, mask), geometry)


def dcnv4_op(input, offset_mask, geometry):
    """``dcnv4`` on a Geometry built with op='dcnv4'."""
    return _run(DCNV4, (input, offset_mask), geometry)


@dataclass(frozen=True)
class _Op:
    """What the Python layer needs of one of the two ops: its name in the ops_dcnv3 library,
    its tensor arguments, their checks and its reference."""
    name: str
    tensor_args: tuple
    check: Callable
    reference: Callable


DCNV3 = _Op('dcnv3', TENSOR_ARGS, check_tensors, dcnv3_reference_op)
DCNV4 = _Op('dcnv4', TENSOR_ARGS_V4, check_tensors_v4, dcnv4_reference_op)


def _run(op, tensors, geometry):
    if geometry.op != op.name:
        raise ValueError(f'{op.name}: the geometry was built for {geometry.op} '
                         f"(Geometry(..., op='{op.name}'))")
    check_types(op.name, op.tensor_args, tensors)  # before autocast reads their devices
    tensors = _autocast_inputs(*tensors)
    op.check(*tensors, geometry)
    if _extension.AVAILABLE:
        return getattr(torch.ops.ops_dcnv3, op.name)(*tensors, *geometry.op_args())
    _extension.warn_fallback()
    return op.reference(*tensors, geometry)


def _differentiable_grads(op, tensors, grad_output, geometry):
    """The op's gradients as a differentiable function of its inputs and grad_output, for
    double backward (``create_graph=True``): the backward kernels have no derivative of their
    own, so the gradients come from the reference, whose grid_sample has one. The same values
    as the kernels (tests/test_dcnv3_op.py), slower; plain backward keeps the kernels."""
    leaves = [t if t.requires_grad else t.detach().requires_grad_(True) for t in tensors]
    out = op.reference(*leaves, geometry)
    return torch.autograd.grad(out, leaves, grad_output, create_graph=True)


def _register(op):
    """The fake kernels of ``op`` and its backward, and its autograd, for every device."""
    count = len(op.tensor_args)

    def geometry_of(args):
        return Geometry.from_args(*args, op=op.name)

    @torch.library.register_fake(f'ops_dcnv3::{op.name}')
    def _fake(*args):
        tensors, geometry = args[:count], geometry_of(args[count:])
        height_out, width_out = op.check(*tensors, geometry)
        input = tensors[0]
        return input.new_empty(input.shape[0], height_out, width_out, input.shape[3])

    @torch.library.register_fake(f'ops_dcnv3::{op.name}_backward')
    def _backward_fake(*args):
        tensors, geometry = args[:count], geometry_of(args[count + 1:])
        op.check(*tensors, geometry)
        return tuple(torch.empty_like(t) for t in tensors)

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs[:count])
        ctx.geometry_args = inputs[count:]

    def backward(ctx, grad_output):
        tensors = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: the gradients must be differentiable too
            grads = _differentiable_grads(op, tensors, grad_output,
                                          geometry_of(ctx.geometry_args))
        else:
            grads = getattr(torch.ops.ops_dcnv3, f'{op.name}_backward')(
                *tensors, grad_output.contiguous(), *ctx.geometry_args)
        # the geometry is not differentiable
        return (*grads, *([None] * len(ctx.geometry_args)))

    torch.library.register_autograd(f'ops_dcnv3::{op.name}', backward,
                                    setup_context=setup_context)


if _extension.AVAILABLE:
    _register(DCNV3)
    _register(DCNV4)
