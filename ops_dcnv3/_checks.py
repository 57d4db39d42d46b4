"""Tensor checks of the DCNv3 op, shared by the public function, the reference and the fake
(meta) implementation used by torch.compile, so every path fails with the same message. The
geometry's own values are checked when the Geometry is built (geometry.py)."""
import torch

from .geometry import TENSOR_ARGS

SUPPORTED_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def check_types(input, offset, mask):
    """Raises a TypeError naming the first argument that is not a tensor (a numpy array, None,
    a list), before anything reads a tensor attribute of it."""
    for name, value in zip(TENSOR_ARGS, (input, offset, mask)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f'dcnv3: {name} must be a torch.Tensor, got {type(value).__name__}')


def check_tensors(input, offset, mask, geometry):
    """Raises a ValueError/TypeError naming the bad tensor; returns (H_out, W_out)."""
    check_types(input, offset, mask)
    if input.dim() != 4:
        raise ValueError('dcnv3: input must be 4-D channels-last (N, H, W, C), got shape '
                         f'{tuple(input.shape)}')
    if input.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f'dcnv3: input dtype {input.dtype} is not supported '
                        f'(float32, float64, bfloat16, float16)')
    channels = geometry.channels
    if input.shape[3] != channels:
        raise ValueError(
            f'dcnv3: input of shape {tuple(input.shape)} has {input.shape[3]} channels in its last '
            f'dimension, expected group*group_channels = {geometry.group}*'
            f'{geometry.group_channels} = {channels} (is it channels-last NHWC?)')
    if input.shape[1] == 0 or input.shape[2] == 0:
        # as torch's convolutions: only the batch may be empty (an empty image would give an
        # output of padding alone)
        raise ValueError(f'dcnv3: input of shape {tuple(input.shape)} has an empty spatial '
                         'dimension (H and W must be positive; only the batch N may be 0)')
    height_out, width_out = geometry.output_size(input.shape[1], input.shape[2])
    if height_out < 1 or width_out < 1:
        raise ValueError(f'dcnv3: input of size {input.shape[1]}x{input.shape[2]} is too small '
                         f'for the kernel, padding and dilation (output {height_out}x{width_out})')
    group_points = geometry.group * geometry.points
    expected = {'offset': (offset, group_points * 2), 'mask': (mask, group_points)}
    for name, (tensor, last) in expected.items():
        shape = (input.shape[0], height_out, width_out, last)
        if tuple(tensor.shape) != shape:
            raise ValueError(f'dcnv3: {name} must have shape {shape} (N, H_out, W_out, '
                             f'group*points{"*2" if name == "offset" else ""}), '
                             f'got {tuple(tensor.shape)}')
        if tensor.dtype != input.dtype:
            raise TypeError(f'dcnv3: {name} has dtype {tensor.dtype} but input has {input.dtype}')
        if tensor.device != input.device:
            raise ValueError(f'dcnv3: {name} is on {tensor.device} but input is on {input.device}')
    return height_out, width_out
