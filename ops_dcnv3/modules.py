"""DCNv3 and DCNv4 as nn.Modules with the published state-dict names (docs/operator.md, "The
module" and "DCNv4").

``DCNv3`` runs the compiled op, ``DCNv3_pytorch`` the reference; both share one implementation and
load each other's weights. Likewise ``DCNv4`` and ``DCNv4_pytorch``.
"""
import dataclasses
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._checks import offset_mask_sizes
from .functional import dcnv3_op, dcnv4_op
from .geometry import Geometry, is_integer
from .reference import dcnv3_reference_op, dcnv4_reference_op

# im2col_step of the published module, which passes 256 to its op. Here it only sets how many
# images the reference (DCNv3_pytorch, the fallback) samples at once; the compiled kernels take
# the whole batch and only check it is positive. Kept at 256 so that exported plugin nodes carry
# the published attribute value and the reference's memory stays bounded at large batches.
IM2COL_STEP = 256


class ToChannelsLast(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1)


class ToChannelsFirst(nn.Module):
    def forward(self, x):
        return x.permute(0, 3, 1, 2)


def build_norm_layer(channels, norm_layer, in_format='channels_last',
                     out_format='channels_last', eps=1e-6):
    """A norm wrapped in a Sequential with the layout permutes it needs, which is what puts the
    published parameters at index 0 or 1 (e.g. ``dw_conv.1.1.weight``)."""
    layers = []
    if norm_layer == 'BN':
        if in_format == 'channels_last':
            layers.append(ToChannelsFirst())
        layers.append(nn.BatchNorm2d(channels))
        if out_format == 'channels_last':
            layers.append(ToChannelsLast())
    elif norm_layer == 'LN':
        if in_format == 'channels_first':
            layers.append(ToChannelsLast())
        layers.append(nn.LayerNorm(channels, eps=eps))
        if out_format == 'channels_first':
            layers.append(ToChannelsFirst())
    else:
        raise ValueError(f"unknown norm_layer '{norm_layer}' (expected 'LN' or 'BN')")
    return nn.Sequential(*layers)


_ACTIVATIONS = {'GELU': nn.GELU, 'ReLU': lambda: nn.ReLU(inplace=True), 'SiLU': nn.SiLU}


def build_act_layer(act_layer):
    if act_layer not in _ACTIVATIONS:
        raise ValueError(f"unknown act_layer '{act_layer}' (expected one of {list(_ACTIVATIONS)})")
    return _ACTIVATIONS[act_layer]()


def softmax_over_points(logits):
    """Softmax over the last dim (the kernel points), in at least float32 as autocast runs
    softmax. On the CPU torch.softmax walks so short a dim (9) row by row, about 4x slower
    (1.5x with backward) than these whole-tensor ops, and took more of InternImage-T's time
    than the DCNv3 op itself; elsewhere torch.softmax is the fast path."""
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    if logits.device.type != 'cpu':
        return logits.softmax(-1)
    exp = (logits - logits.amax(-1, keepdim=True)).exp()
    return exp / exp.sum(-1, keepdim=True)


def check_module_args(module, remove_center, **sizes):
    """Raises a ValueError naming the first bad size of the module ``module`` (given in
    signature order; a dw_kernel_size of None is no depthwise conv): each must be an integer,
    positive (pad: non-negative), channels a multiple of group; and the module predicts offsets
    and masks at the input resolution (a linear layer on the depthwise view), so the op's output
    must have the input's size for every input size."""
    for name, value in sizes.items():
        minimum = 0 if name == 'pad' else 1
        if not (name == 'dw_kernel_size' and value is None) and (
                not is_integer(value) or value < minimum):
            raise ValueError(f'{module}: {name} must be an integer >= {minimum}, got {value!r}')
    channels, group = sizes['channels'], sizes['group']
    if channels % group != 0:
        raise ValueError(f'{module}: channels ({channels}) must be divisible by group ({group})')
    kernel_size, stride, pad, dilation = (sizes[name] for name in
                                          ('kernel_size', 'stride', 'pad', 'dilation'))
    if stride != 1 or 2 * pad != dilation * (kernel_size - 1):
        raise ValueError(
            f'{module}: stride={stride}, kernel_size={kernel_size} and pad={pad} (dilation='
            f"{dilation}) give the op an output size other than the input's, but the module "
            'predicts offsets and masks at the input size: it needs stride=1 and '
            '2*pad == dilation*(kernel_size-1)')
    dw_kernel_size = sizes['dw_kernel_size']
    if dw_kernel_size is not None and dw_kernel_size % 2 == 0:
        raise ValueError(f'{module}: dw_kernel_size ({dw_kernel_size}) must be odd, so that '
                         "the depthwise view keeps the input's size")
    if remove_center and kernel_size % 2 == 0:
        raise ValueError(f'{module}: remove_center needs an odd kernel_size, got {kernel_size}')


def pack_offset_mask(offset, mask, geometry):
    """DCNv3's offset (N, H, W, G*P*2) and mask (N, H, W, G*P) as DCNv4's offset_mask, per group
    its pairs then its mask values, as the published DCNv3 module packs them with
    use_dcn_v4_op. It also zero-pads them to a multiple of 8, which the published kernels need
    and ours do not (the op never reads the padding), so that copy is left out."""
    n, height, width = offset.shape[:3]
    group = geometry.group
    packed = torch.cat([offset.reshape(n, height, width, group, -1),
                        mask.reshape(n, height, width, group, -1)], dim=-1)
    return packed.reshape(n, height, width, -1)


def set_sizes(module, name, op, channels, kernel_size, dw_kernel_size, stride, pad, dilation,
              group, offset_scale, center_feature_scale, remove_center):
    """Checks the sizes of the DCNv3 or DCNv4 module ``name`` (check_module_args), keeps them as
    its attributes and builds, once, the Geometry each forward hands to the op ``op``."""
    check_module_args(name, remove_center, channels=channels, kernel_size=kernel_size,
                      dw_kernel_size=dw_kernel_size, stride=stride, pad=pad, dilation=dilation,
                      group=group)
    module.channels = channels
    module.kernel_size = kernel_size
    module.dw_kernel_size = dw_kernel_size
    module.stride = stride
    module.pad = pad
    module.dilation = dilation
    module.group = group
    module.group_channels = channels // group
    module.offset_scale = offset_scale
    module.center_feature_scale = center_feature_scale
    module.remove_center = bool(remove_center)
    module.geometry = Geometry(
        kernel=(kernel_size, kernel_size), stride=(stride, stride), pad=(pad, pad),
        dilation=(dilation, dilation), group=group, group_channels=module.group_channels,
        offset_scale=offset_scale, remove_center=module.remove_center, im2col_step=IM2COL_STEP,
        op=op)
    module.points = module.geometry.points


class DCNv3(nn.Module):
    """DCNv3 block: input/output projections around the deformable op, with offsets and
    softmax-normalised masks predicted from a depthwise-conv view of the input. NHWC in and out."""

    # Called as core_op(input, offset, mask, geometry), or with use_dcn_v4_op as
    # core_op_v4(input, offset_mask, geometry_v4); onnx.py swaps them for the export forms.
    core_op = staticmethod(dcnv3_op)
    core_op_v4 = staticmethod(dcnv4_op)

    def __init__(self, channels=64, kernel_size=3, dw_kernel_size=None, stride=1, pad=1,
                 dilation=1, group=4, offset_scale=1.0, act_layer='GELU', norm_layer='LN',
                 center_feature_scale=False, remove_center=False, use_dcn_v4_op=False):
        super().__init__()
        dw_kernel_size = kernel_size if dw_kernel_size is None else dw_kernel_size
        set_sizes(self, 'DCNv3', 'dcnv3', channels, kernel_size, dw_kernel_size, stride, pad,
                  dilation, group, offset_scale, center_feature_scale, remove_center)
        # The published option: the same offsets and softmax-normalised mask, packed into
        # DCNv4's offset_mask and run by the DCNv4 op (same values, the DCNv4 kernels).
        self.use_dcn_v4_op = bool(use_dcn_v4_op)
        self.geometry_v4 = dataclasses.replace(self.geometry, op='dcnv4')

        self.dw_conv = nn.Sequential(
            nn.Conv2d(channels, channels, dw_kernel_size, stride=1,
                      padding=(dw_kernel_size - 1) // 2, groups=channels),
            build_norm_layer(channels, norm_layer, 'channels_first', 'channels_last'),
            build_act_layer(act_layer))
        self.offset = nn.Linear(channels, group * self.points * 2)
        self.mask = nn.Linear(channels, group * self.points)
        self.input_proj = nn.Linear(channels, channels)
        self.output_proj = nn.Linear(channels, channels)
        if center_feature_scale:
            self.center_feature_scale_proj_weight = nn.Parameter(torch.zeros(group, channels))
            self.center_feature_scale_proj_bias = nn.Parameter(torch.zeros(group))
        self._reset_parameters()

    def _reset_parameters(self):
        """Zero offsets and masks: training starts from the regular grid with uniform weights."""
        for layer in (self.offset, self.mask):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        for layer in (self.input_proj, self.output_proj):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f'DCNv3: input must be a torch.Tensor, got {type(x).__name__}')
        if x.dim() != 4 or x.shape[-1] != self.channels:
            raise ValueError(f'DCNv3: expected channels-last input (N, H, W, {self.channels}), '
                             f'got shape {tuple(x.shape)}')
        x_proj = self.input_proj(x)
        x1 = self.dw_conv(x.permute(0, 3, 1, 2))
        offset = self.offset(x1).to(x_proj.dtype)
        mask = softmax_over_points(self.mask(x1).reshape(*x1.shape[:3], self.group, self.points))
        # the size spelled out: -1 is ambiguous for an empty batch
        mask = mask.reshape(*x1.shape[:3], self.group * self.points).to(x_proj.dtype)
        if self.use_dcn_v4_op:
            y = self.core_op_v4(x_proj, pack_offset_mask(offset, mask, self.geometry_v4),
                                self.geometry_v4)
        else:
            y = self.core_op(x_proj, offset, mask, self.geometry)
        if self.center_feature_scale:
            scale = torch.sigmoid(F.linear(x1, self.center_feature_scale_proj_weight,
                                           self.center_feature_scale_proj_bias))
            scale = scale.to(y.dtype).repeat_interleave(self.group_channels, dim=-1)
            y = y * (1 - scale) + x_proj * scale
        return self.output_proj(y)


class DCNv3_pytorch(DCNv3):
    """DCNv3 on the pure-PyTorch reference op (no compiled code needed)."""

    core_op = staticmethod(dcnv3_reference_op)
    core_op_v4 = staticmethod(dcnv4_reference_op)


class DCNv4(nn.Module):
    """DCNv4 block as published (OpenGVLab/DCNv4, ``DCNv4.modules.DCNv4``): value projection,
    deformable op, output projection, with offsets and mask values predicted by one linear layer
    (``offset_mask``, padded to a multiple of 8 outputs) from the input itself or from its
    depthwise-conv view (``dw_kernel_size``), and used as predicted: no softmax, no norm or
    activation. ``without_pointwise`` drops both projections; ``output_bias`` the output
    projection's bias. Takes (N, L, C) with ``shape=(H, W)`` as the published module (a square
    image when shape is None) and returns (N, L, C); or NHWC in and out."""

    # Called as core_op(input, offset_mask, geometry); onnx.py swaps it for the export form.
    core_op = staticmethod(dcnv4_op)

    def __init__(self, channels=64, kernel_size=3, stride=1, pad=1, dilation=1, group=4,
                 offset_scale=1.0, dw_kernel_size=None, center_feature_scale=False,
                 remove_center=False, output_bias=True, without_pointwise=False):
        super().__init__()
        set_sizes(self, 'DCNv4', 'dcnv4', channels, kernel_size, dw_kernel_size, stride, pad,
                  dilation, group, offset_scale, center_feature_scale, remove_center)
        self.without_pointwise = without_pointwise

        if dw_kernel_size is not None:
            self.offset_mask_dw = nn.Conv2d(channels, channels, dw_kernel_size, stride=1,
                                            padding=(dw_kernel_size - 1) // 2, groups=channels)
        self.offset_mask = nn.Linear(channels, offset_mask_sizes(self.geometry)[1])
        if not without_pointwise:
            self.value_proj = nn.Linear(channels, channels)
            self.output_proj = nn.Linear(channels, channels, bias=output_bias)
        if center_feature_scale:
            self.center_feature_scale_proj_weight = nn.Parameter(torch.zeros(group, channels))
            self.center_feature_scale_proj_bias = nn.Parameter(torch.zeros(group))
        self._reset_parameters()

    def _reset_parameters(self):
        """Zero offsets and mask values (the regular grid, every sample weighted 0: the block
        starts as its output projection's bias), xavier-uniform projections, as published."""
        nn.init.zeros_(self.offset_mask.weight)
        nn.init.zeros_(self.offset_mask.bias)
        if not self.without_pointwise:
            for layer in (self.value_proj, self.output_proj):
                nn.init.xavier_uniform_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)

    def image_shape(self, x, shape):
        """(N, H, W) of the input: NHWC as it is, (N, L, C) with shape=(H, W), or with a square
        image when shape is None (the published default; any other L is an error here)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f'DCNv4: input must be a torch.Tensor, got {type(x).__name__}')
        if x.dim() not in (3, 4) or x.shape[-1] != self.channels:
            raise ValueError(f'DCNv4: expected (N, L, {self.channels}) or channels-last '
                             f'(N, H, W, {self.channels}) input, got shape {tuple(x.shape)}')
        if x.dim() == 4:
            if shape is not None and tuple(shape) != tuple(x.shape[1:3]):
                raise ValueError(f'DCNv4: shape {tuple(shape)} does not match the NHWC input '
                                 f'of shape {tuple(x.shape)}')
            return tuple(x.shape[:3])
        length = x.shape[1]
        if shape is None:
            side = math.isqrt(length)
            if side * side != length:
                raise ValueError(f'DCNv4: an input of {length} tokens is not a square image; '
                                 'pass shape=(H, W)')
            shape = (side, side)
        height, width = shape
        if height * width != length:
            raise ValueError(f'DCNv4: shape {tuple(shape)} has {height * width} pixels but the '
                             f'input has {length} tokens')
        return x.shape[0], height, width

    def forward(self, x, shape=None):
        n, height, width = self.image_shape(x, shape)
        # an NHWC input as it is, so that an ONNX trace keeps its sizes dynamic
        image = x if x.dim() == 4 else x.reshape(n, height, width, self.channels)
        value = image if self.without_pointwise else self.value_proj(image)
        if self.dw_kernel_size is not None:
            source = self.offset_mask_dw(image.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        else:
            source = image
        offset_mask = self.offset_mask(source).to(value.dtype)
        y = self.core_op(value, offset_mask, self.geometry)
        if self.center_feature_scale:
            # As published: the gate is computed from the op's output (DCNv3's from its input).
            scale = torch.sigmoid(F.linear(y, self.center_feature_scale_proj_weight,
                                           self.center_feature_scale_proj_bias))
            scale = scale.to(y.dtype).repeat_interleave(self.group_channels, dim=-1)
            y = y * (1 - scale) + value * scale
        if not self.without_pointwise:
            y = self.output_proj(y)
        return y if x.dim() == 4 else y.reshape(n, height * width, y.shape[-1])


class DCNv4_pytorch(DCNv4):
    """DCNv4 on the pure-PyTorch reference op (no compiled code needed)."""

    core_op = staticmethod(dcnv4_reference_op)
