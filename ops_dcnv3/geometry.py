"""The geometry of one DCNv3 or DCNv4 call as one value: the 13 hyper-parameters that follow the
tensors in the op's argument list (docs/operator.md, "Arguments"; DCNv4 takes the same ones).
It mirrors the C++ ``dcnv3::Geometry`` (csrc/dcnv3_geometry.h) without the tensor shapes and
point layout, which the C++ struct also carries.

The dispatcher schema, the published Python signature and the TensorRT plugin stay flat; this
module defines their order once (``FLAT_ARGS``), and ``Geometry.from_args`` / ``op_args``
convert between the flat form and the Geometry.
"""
import numbers
from dataclasses import dataclass, field

import torch

# The op's arguments: these tensors, then the geometry in the published flat order (which is
# also the order of the published op's Python signature and the names of the TensorRT plugin's
# attributes).
TENSOR_ARGS = ('input', 'offset', 'mask')
TENSOR_ARGS_V4 = ('input', 'offset_mask')  # DCNv4: the offsets and mask values in one
FLAT_ARGS = ('kernel_h', 'kernel_w', 'stride_h', 'stride_w', 'pad_h', 'pad_w', 'dilation_h',
             'dilation_w', 'group', 'group_channels', 'offset_scale', 'im2col_step',
             'remove_center')
# The values that must be integers, checked in this order so that an error names the first bad
# one; all but the pads must be at least 1.
_INTEGERS = ('kernel_h', 'kernel_w', 'stride_h', 'stride_w', 'pad_h', 'pad_w', 'dilation_h',
             'dilation_w', 'group', 'group_channels', 'im2col_step')
_PAIRS = ('kernel', 'stride', 'pad', 'dilation')
# The largest integer value: the published TensorRT plugin stores them as int32, and below it the
# C++ geometry (csrc/dcnv3.cpp, which checks the same bounds) computes its products of two of
# them in int64 without wrapping around.
MAX_INTEGER = 2**31 - 1
# The largest tensor dimension: the entries of a pixel's offsets (DCNv3: group*points*2) or
# offsets and mask values (DCNv4: group*points*3, rounded up to a multiple of 8) must be one.
MAX_DIMENSION = 2**63 - 1
# Per op: entries per point, what they are, and their bound (DCNv4's leaves room for the
# round-up to a multiple of 8).
POINT_ENTRIES = {'dcnv3': (2, 'the last dimension of offset', (MAX_DIMENSION, '2**63-1')),
                 'dcnv4': (3, 'the offsets and mask values', (MAX_DIMENSION - 7, '2**63-8'))}


def is_integer(value):
    """An int, numpy integer or traced SymInt; not a bool, nor a float with an integral value
    (3.0 as a kernel size is a bug upstream, and the schema takes ints)."""
    return isinstance(value, (numbers.Integral, torch.SymInt)) and not isinstance(value, bool)


def output_length(size, kernel, stride, pad, dilation):
    """Output length along one axis (plain arithmetic, so an ONNX trace keeps ``size`` dynamic)."""
    return (size + 2 * pad - (dilation * (kernel - 1) + 1)) // stride + 1


def _check_values(op, values):
    """Raises a ValueError naming the first invalid flat value of ``values`` (FLAT_ARGS order)."""
    for name in _INTEGERS:
        if not is_integer(values[name]):
            raise ValueError(f'{op}: {name} must be an integer, got {values[name]!r}')
    for name in _INTEGERS:
        value = values[name]
        if name.startswith('pad') and value < 0:
            raise ValueError(f'{op}: {name} (padding) must be non-negative, got {value}')
        if not name.startswith('pad') and value < 1:
            raise ValueError(f'{op}: {name} must be positive, got {value}')
        if value > MAX_INTEGER:
            raise ValueError(f'{op}: {name} is out of range, got {value} (at most 2**31-1)')
    scale = values['offset_scale']
    if not isinstance(scale, numbers.Real) or isinstance(scale, bool):
        raise ValueError(f'{op}: offset_scale must be a real number, got {scale!r}')
    kernel_h, kernel_w = values['kernel_h'], values['kernel_w']
    if values['remove_center'] and (kernel_h != kernel_w or kernel_h % 2 == 0):
        raise ValueError(f'{op}: remove_center needs a square kernel of odd size, got '
                         f'{kernel_h}x{kernel_w}')


@dataclass(frozen=True, slots=True)
class Geometry:
    """Kernel, stride, pad and dilation as (h, w) pairs; group and group_channels (C = group *
    group_channels); offset_scale (scales the kernel grid and the learned offsets alike);
    remove_center (drop the centre point of an odd square kernel); im2col_step (the reference's
    batch chunk; the compiled kernels only check it is positive); op ('dcnv3' or 'dcnv4', the
    op whose call it is: it names the op in messages). Raises ValueError naming the first
    invalid value."""

    kernel: tuple
    stride: tuple
    pad: tuple
    dilation: tuple
    group: int
    group_channels: int
    offset_scale: float
    remove_center: bool
    im2col_step: int
    op: str = 'dcnv3'
    # The flat arguments and the point count, computed once: every call of the op reads them.
    _args: tuple = field(init=False, repr=False, compare=False)
    points: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.op not in POINT_ENTRIES:
            raise ValueError(f'Geometry: op must be one of {sorted(POINT_ENTRIES)}, '
                             f'got {self.op!r}')
        for name in _PAIRS:
            value = getattr(self, name)
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ValueError(f'{self.op}: {name} must be a pair (h, w), got {value!r}')
        values = dict(zip(FLAT_ARGS, (*self.kernel, *self.stride, *self.pad, *self.dilation,
                                      self.group, self.group_channels, self.offset_scale,
                                      self.im2col_step, self.remove_center)))
        _check_values(self.op, values)
        values.update({name: int(values[name]) for name in _INTEGERS})  # e.g. numpy ints
        values.update(offset_scale=float(self.offset_scale),
                      remove_center=bool(self.remove_center))
        kernel_h, kernel_w = values['kernel_h'], values['kernel_w']
        set_field = object.__setattr__  # the dataclass is frozen
        for name in _PAIRS:
            set_field(self, name, (values[f'{name}_h'], values[f'{name}_w']))
        for name in ('group', 'group_channels', 'offset_scale', 'remove_center', 'im2col_step'):
            set_field(self, name, values[name])
        set_field(self, '_args', tuple(values.values()))
        set_field(self, 'points', kernel_h * kernel_w - (1 if self.remove_center else 0))
        per_point, what, (bound, bound_text) = POINT_ENTRIES[self.op]
        if self.group * self.points * per_point > bound:
            raise ValueError(f'{self.op}: group*points*{per_point} ({what}) is out of range, '
                             f'got {self.group}*{self.points}*{per_point} (at most {bound_text})')

    @classmethod
    def from_args(cls, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
                  dilation_w, group, group_channels, offset_scale, im2col_step,
                  remove_center=False, op='dcnv3'):
        """The Geometry of the flat arguments, in the published order (``FLAT_ARGS``)."""
        return cls((kernel_h, kernel_w), (stride_h, stride_w), (pad_h, pad_w),
                   (dilation_h, dilation_w), group, group_channels, offset_scale, remove_center,
                   im2col_step, op)

    def op_args(self):
        """The flat arguments in the published order, as the dispatcher op takes them:
        ``torch.ops.ops_dcnv3.dcnv3(input, offset, mask, *geometry.op_args())``."""
        return self._args

    def named_args(self):
        """{flat argument name: value}, in the published order."""
        return dict(zip(FLAT_ARGS, self._args))

    @property
    def channels(self):
        return self.group * self.group_channels

    def output_size(self, height, width):
        """(H_out, W_out) for an input of height x width."""
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w = \
            self._args[:8]
        return (output_length(height, kernel_h, stride_h, pad_h, dilation_h),
                output_length(width, kernel_w, stride_w, pad_w, dilation_w))
