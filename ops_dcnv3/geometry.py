"""The geometry of one DCNv3 call as one value: the 13 hyper-parameters that follow the three
tensors in the op's argument list (docs/operator.md, "Arguments"). It mirrors the C++
``dcnv3::Geometry`` (csrc/dcnv3_geometry.h) without the tensor shapes, which the C++ struct
also carries.

The dispatcher schema, the published Python signature and the TensorRT plugin stay flat; this
module defines their order once (``FLAT_ARGS``), and ``Geometry.from_args`` / ``op_args``
convert between the flat form and the Geometry.
"""
from dataclasses import dataclass, field

# The op's arguments: these tensors, then the geometry in the published flat order (which is
# also the order of the published op's Python signature and the names of the TensorRT plugin's
# attributes).
TENSOR_ARGS = ('input', 'offset', 'mask')
FLAT_ARGS = ('kernel_h', 'kernel_w', 'stride_h', 'stride_w', 'pad_h', 'pad_w', 'dilation_h',
             'dilation_w', 'group', 'group_channels', 'offset_scale', 'im2col_step',
             'remove_center')
# The values that must be at least 1, checked in this order so that an error names the first bad
# one.
_POSITIVE = ('kernel_h', 'kernel_w', 'stride_h', 'stride_w', 'dilation_h', 'dilation_w', 'group',
             'group_channels', 'im2col_step')


def output_length(size, kernel, stride, pad, dilation):
    """Output length along one axis (plain arithmetic, so an ONNX trace keeps ``size`` dynamic)."""
    return (size + 2 * pad - (dilation * (kernel - 1) + 1)) // stride + 1


@dataclass(frozen=True, slots=True)
class Geometry:
    """Kernel, stride, pad and dilation as (h, w) pairs; group and group_channels (C = group *
    group_channels); offset_scale (scales the kernel grid and the learned offsets alike);
    remove_center (drop the centre point of an odd square kernel); im2col_step (the reference's
    batch chunk; the compiled kernels only check it is positive). Raises ValueError naming the
    first invalid value."""

    kernel: tuple
    stride: tuple
    pad: tuple
    dilation: tuple
    group: int
    group_channels: int
    offset_scale: float
    remove_center: bool
    im2col_step: int
    # The flat arguments and the point count, computed once: every call of the op reads them.
    _args: tuple = field(init=False, repr=False, compare=False)
    points: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        for name in ('kernel', 'stride', 'pad', 'dilation'):
            value = getattr(self, name)
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ValueError(f'dcnv3: {name} must be a pair (h, w), got {value!r}')
        (kernel_h, kernel_w), (stride_h, stride_w) = self.kernel, self.stride
        (pad_h, pad_w), (dilation_h, dilation_w) = self.pad, self.dilation
        remove_center = bool(self.remove_center)
        args = (kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w,
                self.group, self.group_channels, float(self.offset_scale), self.im2col_step,
                remove_center)
        if min(kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, self.group,
               self.group_channels, self.im2col_step) < 1:
            values = dict(zip(FLAT_ARGS, args))
            name = next(name for name in _POSITIVE if values[name] < 1)
            raise ValueError(f'dcnv3: {name} must be positive, got {values[name]}')
        if pad_h < 0 or pad_w < 0:
            raise ValueError('dcnv3: padding must be non-negative, got (pad_h, pad_w) = '
                             f'({pad_h}, {pad_w})')
        if remove_center and (kernel_h != kernel_w or kernel_h % 2 == 0):
            raise ValueError('dcnv3: remove_center needs a square kernel of odd size, got '
                             f'{kernel_h}x{kernel_w}')
        set_field = object.__setattr__  # the dataclass is frozen
        set_field(self, 'offset_scale', args[10])
        set_field(self, 'remove_center', remove_center)
        set_field(self, '_args', args)
        set_field(self, 'points', kernel_h * kernel_w - (1 if remove_center else 0))

    @classmethod
    def from_args(cls, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
                  dilation_w, group, group_channels, offset_scale, im2col_step,
                  remove_center=False):
        """The Geometry of the flat arguments, in the published order (``FLAT_ARGS``)."""
        return cls((kernel_h, kernel_w), (stride_h, stride_w), (pad_h, pad_w),
                   (dilation_h, dilation_w), group, group_channels, offset_scale, remove_center,
                   im2col_step)

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
