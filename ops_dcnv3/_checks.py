"""Argument checks of the DCNv3 op, shared by the public function, the reference and the fake
(meta) implementation used by torch.compile, so every path fails with the same message."""
import torch

SUPPORTED_DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def output_size(size, kernel, stride, pad, dilation):
    return (size + 2 * pad - (dilation * (kernel - 1) + 1)) // stride + 1


def num_points(kernel_h, kernel_w, remove_center):
    return kernel_h * kernel_w - (1 if remove_center else 0)


def check_arguments(input, offset, mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                    dilation_h, dilation_w, group, group_channels, offset_scale, im2col_step,
                    remove_center):
    """Raises a ValueError/TypeError naming the bad argument; returns (H_out, W_out)."""
    for name, value in (('kernel_h', kernel_h), ('kernel_w', kernel_w), ('stride_h', stride_h),
                        ('stride_w', stride_w), ('dilation_h', dilation_h),
                        ('dilation_w', dilation_w), ('group', group),
                        ('group_channels', group_channels), ('im2col_step', im2col_step)):
        if value < 1:
            raise ValueError(f'dcnv3: {name} must be positive, got {value}')
    if pad_h < 0 or pad_w < 0:
        raise ValueError(f'dcnv3: padding must be non-negative, got ({pad_h}, {pad_w})')
    if remove_center and (kernel_h != kernel_w or kernel_h % 2 == 0):
        raise ValueError('dcnv3: remove_center needs a square kernel of odd size, got '
                         f'{kernel_h}x{kernel_w}')
    if input.dim() != 4:
        raise ValueError('dcnv3: input must be 4-D channels-last (N, H, W, C), got shape '
                         f'{tuple(input.shape)}')
    if input.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f'dcnv3: input dtype {input.dtype} is not supported '
                        f'(float32, float64, bfloat16, float16)')
    channels = group * group_channels
    if input.shape[3] != channels:
        raise ValueError(
            f'dcnv3: input of shape {tuple(input.shape)} has {input.shape[3]} channels in its last '
            f'dimension, expected group*group_channels = {group}*{group_channels} = {channels} '
            '(is it channels-last NHWC?)')
    height_out = output_size(input.shape[1], kernel_h, stride_h, pad_h, dilation_h)
    width_out = output_size(input.shape[2], kernel_w, stride_w, pad_w, dilation_w)
    if height_out < 1 or width_out < 1:
        raise ValueError(f'dcnv3: input of size {input.shape[1]}x{input.shape[2]} is too small '
                         f'for the kernel, padding and dilation (output {height_out}x{width_out})')
    points = num_points(kernel_h, kernel_w, remove_center)
    expected = {'offset': (offset, group * points * 2), 'mask': (mask, group * points)}
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
