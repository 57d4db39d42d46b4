"""Tensor checks of the DCNv3 and DCNv4 ops, shared by the public functions, the references and
the fake (meta) implementations used by torch.compile, so every path fails with the same
message. The geometry's own values are checked when the Geometry is built (geometry.py); the
C++ registration (csrc/dcnv3.cpp) checks the same things again for raw torch.ops calls."""
import torch

from .geometry import TENSOR_ARGS, TENSOR_ARGS_V4

SUPPORTED_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def check_types(op, names, tensors):
    """Raises a TypeError naming the first argument that is not a tensor (a numpy array, None,
    a list), before anything reads a tensor attribute of it."""
    for name, value in zip(names, tensors):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f'{op}: {name} must be a torch.Tensor, got {type(value).__name__}')


def check_input(input, geometry):
    """Raises a ValueError/TypeError naming what is wrong with the op's input; returns
    (H_out, W_out)."""
    op = geometry.op
    if input.dim() != 4:
        raise ValueError(f'{op}: input must be 4-D channels-last (N, H, W, C), got shape '
                         f'{tuple(input.shape)}')
    if input.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f'{op}: input dtype {input.dtype} is not supported '
                        f'(float32, float64, bfloat16, float16)')
    channels = geometry.channels
    if input.shape[3] != channels:
        raise ValueError(
            f'{op}: input of shape {tuple(input.shape)} has {input.shape[3]} channels in its last '
            f'dimension, expected group*group_channels = {geometry.group}*'
            f'{geometry.group_channels} = {channels} (is it channels-last NHWC?)')
    if input.shape[1] == 0 or input.shape[2] == 0:
        # as torch's convolutions: only the batch may be empty (an empty image would give an
        # output of padding alone)
        raise ValueError(f'{op}: input of shape {tuple(input.shape)} has an empty spatial '
                         'dimension (H and W must be positive; only the batch N may be 0)')
    height_out, width_out = geometry.output_size(input.shape[1], input.shape[2])
    if height_out < 1 or width_out < 1:
        raise ValueError(f'{op}: input of size {input.shape[1]}x{input.shape[2]} is too small '
                         f'for the kernel, padding and dilation (output {height_out}x{width_out})')
    return height_out, width_out


def check_like_input(op, name, tensor, input):
    """The dtype and device of a tensor that goes with the input."""
    if tensor.dtype != input.dtype:
        raise TypeError(f'{op}: {name} has dtype {tensor.dtype} but input has {input.dtype}')
    if tensor.device != input.device:
        raise ValueError(f'{op}: {name} is on {tensor.device} but input is on {input.device}')


def check_tensors(input, offset, mask, geometry):
    """DCNv3's tensors: raises a ValueError/TypeError naming the bad one; returns
    (H_out, W_out)."""
    op = geometry.op
    check_types(op, TENSOR_ARGS, (input, offset, mask))
    height_out, width_out = check_input(input, geometry)
    group_points = geometry.group * geometry.points
    expected = {'offset': (offset, group_points * 2), 'mask': (mask, group_points)}
    for name, (tensor, last) in expected.items():
        shape = (input.shape[0], height_out, width_out, last)
        if tuple(tensor.shape) != shape:
            raise ValueError(f'{op}: {name} must have shape {shape} (N, H_out, W_out, '
                             f'group*points{"*2" if name == "offset" else ""}), '
                             f'got {tuple(tensor.shape)}')
        check_like_input(op, name, tensor, input)
    return height_out, width_out


def offset_mask_sizes(geometry):
    """The last dimensions DCNv4's offset_mask may have: group*points*3, and that rounded up to
    a multiple of 8 (what the published module's linear layer gives)."""
    entries = geometry.group * geometry.points * 3
    return entries, -(-entries // 8) * 8


def check_tensors_v4(input, offset_mask, geometry):
    """DCNv4's tensors: raises a ValueError/TypeError naming the bad one; returns
    (H_out, W_out)."""
    op = geometry.op
    check_types(op, TENSOR_ARGS_V4, (input, offset_mask))
    height_out, width_out = check_input(input, geometry)
    entries, padded = offset_mask_sizes(geometry)
    leading = (input.shape[0], height_out, width_out)
    shape = tuple(offset_mask.shape)
    if len(shape) != 4 or shape[:3] != leading or shape[3] not in (entries, padded):
        raise ValueError(f'{op}: offset_mask must have shape ({", ".join(map(str, leading))}, D) '
                         f'(N, H_out, W_out, D) with D = group*points*3 = {entries} or its '
                         f'round-up to a multiple of 8, {padded}, got {shape}')
    check_like_input(op, 'offset_mask', offset_mask, input)
    return height_out, width_out
