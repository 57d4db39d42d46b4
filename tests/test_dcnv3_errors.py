"""Bad input to DCNv3 gives a clear error naming the problem, on every path: the public
function, the reference and the raw dispatcher op (which must never crash the process)."""
import itertools

import numpy as np
import pytest
import torch

import ops_dcnv3
from dcnv3_cases import make_inputs, op_args
from ops_dcnv3 import Geometry, dcnv3, dcnv3_reference
from ops_dcnv3.geometry import FLAT_ARGS, TENSOR_ARGS

PATHS = [dcnv3, dcnv3_reference]
if ops_dcnv3.EXTENSION_AVAILABLE:
    PATHS.append(torch.ops.ops_dcnv3.dcnv3)
PATH_IDS = ['dcnv3', 'reference', 'torch.ops'][:len(PATHS)]


def good():
    return make_inputs(dtype=torch.float32)


def bad_cases():
    x, offset, mask = good()
    yield 'rank', (x[0], offset, mask), op_args(), r'4-D|shape'
    yield 'channels', (x[..., :60], offset, mask), op_args(), r'group\*group_channels'
    yield 'nchw layout', (x.permute(0, 3, 1, 2), offset, mask), op_args(), r'channels'
    yield 'offset shape', (x, offset[..., :-2], mask), op_args(), r'offset'
    yield 'mask shape', (x, offset, mask[:, :4]), op_args(), r'mask'
    yield 'offset dtype', (x, offset.double(), mask), op_args(), r'offset.*dtype|dtype.*offset'
    yield 'mask dtype', (x, offset, mask.half()), op_args(), r'mask.*dtype|dtype.*mask'
    yield 'int dtype', (x.int(), offset.int(), mask.int()), op_args(), r'dtype'
    yield 'remove_center even', (x, offset, mask), op_args(2, 2, remove_center=True), \
        r'remove_center'
    yield 'remove_center non-square', (x, offset, mask), op_args(3, 5, remove_center=True), \
        r'remove_center'
    yield 'zero stride', (x, offset, mask), op_args(stride=0), r'stride'
    yield 'negative pad', (x, offset, mask), op_args(pad_h=-1), r'pad'
    yield 'zero im2col_step', (x, offset, mask), op_args(im2col_step=0), r'im2col_step'
    yield 'too small', (x[:, :1, :1], offset, mask), op_args(pad_h=0, pad_w=0), r'too small'
    # An empty image with padding would have a non-empty output (of padding alone); as torch's
    # convolutions, every path refuses it rather than the compiled op returning zeros.
    yield from empty_image_cases(x)


def empty_image_cases(x):
    """H = 0 and W = 0 with a 1x1 kernel and padding 1, offsets and masks of the output size
    that padding alone would give."""
    n, height, width, _ = x.shape
    for name, image, out_size in (('empty height', x[:, :0], (2, width + 2)),
                                  ('empty width', x[:, :, :0], (height + 2, 2))):
        offset, mask = (x.new_zeros(n, *out_size, 4 * last) for last in (2, 1))
        yield name, (image, offset, mask), op_args(1, 1), r'empty spatial dimension'


CASES = list(bad_cases())


@pytest.mark.parametrize('path', PATHS, ids=PATH_IDS)
@pytest.mark.parametrize('name,inputs,args,message', CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(path, name, inputs, args, message):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=message):
        path(*inputs, *args)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU for a device mismatch')
@pytest.mark.parametrize('path', PATHS, ids=PATH_IDS)
def test_device_mismatch(path):
    x, offset, mask = good()
    with pytest.raises((ValueError, RuntimeError), match='device|cuda|cpu'):
        path(x, offset.cuda(), mask, *op_args())


def with_args(**values):
    """op_args() with some flat arguments replaced by name."""
    return tuple({**dict(zip(FLAT_ARGS, op_args())), **values}.values())


# Values past 2**31-1 once wrapped around in the C++ products of the geometry, and the messages
# showed the wrapped shapes (pad 2**62: an output of 0 rows; group 2**63-1: -4 channels).
HUGE = {'pad_h': 2**62, 'pad_w': 2**31, 'kernel_h': 2**31, 'kernel_w': 2**63 - 1,
        'stride_h': 2**40, 'stride_w': 2**63 - 1, 'dilation_h': 2**62, 'dilation_w': 2**31,
        'group': 2**63 - 1, 'group_channels': 2**31, 'im2col_step': 2**32}


@pytest.mark.parametrize('path', PATHS, ids=PATH_IDS)
@pytest.mark.parametrize('name, value', HUGE.items(), ids=HUGE.keys())
def test_huge_integer_arguments_are_refused_by_name(path, name, value):
    with pytest.raises((ValueError, RuntimeError),
                       match=rf'dcnv3: {name} is out of range, got {value} \(at most 2\*\*31-1\)'):
        path(*good(), *with_args(**{name: value}))


@pytest.mark.parametrize('path', PATHS, ids=PATH_IDS)
def test_offset_channels_past_int64_are_refused(path):
    """Every value below 2**31, but group*kernel_h*kernel_w*2 past 2**63-1."""
    big = 2**31 - 1
    with pytest.raises((ValueError, RuntimeError),
                       match=rf'group\*points\*2 .* is out of range, got 2\*{big * big}\*2'):
        path(*good(), *with_args(kernel_h=big, kernel_w=big, group=2))


@pytest.mark.parametrize('path', PATHS, ids=PATH_IDS)
def test_largest_integer_arguments_still_run(path):
    """2**31-1 is taken: as stride and im2col_step (a 1x1 output), and as dilation with the
    padding that keeps the size, where only the centre of the 3x3 kernel lands in the image."""
    big = 2**31 - 1
    x, _, _ = make_inputs(n=2, height=5, width=6, group=2, group_channels=3)
    mask = torch.rand(2, 5, 6, 2, 9, dtype=x.dtype)
    out = path(x, x.new_zeros(2, 5, 6, 36), mask.reshape(2, 5, 6, 18),
               *with_args(pad_h=big, pad_w=big, dilation_h=big, dilation_w=big, group=2,
                          group_channels=3, im2col_step=big))
    centre = mask[..., 4, None].expand(2, 5, 6, 2, 3).reshape(2, 5, 6, 6)
    torch.testing.assert_close(out, x * centre)
    x, offset, mask = (t[:, :1, :1] for t in make_inputs())
    out = path(x, offset, mask, *with_args(stride_h=big, stride_w=big))
    torch.testing.assert_close(out, dcnv3_reference(x, offset, mask, *op_args()))


@pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE, reason='compiled extension not built')
@pytest.mark.parametrize('position', range(4), ids=(*TENSOR_ARGS, 'grad_output'))
def test_raw_ops_name_a_none_tensor(position):
    """None reaches the C++ op as an undefined tensor, which once read as 'got 1-D' or 'tensor
    does not have a device'."""
    x, offset, mask = good()
    inputs = [x, offset, mask, torch.ones_like(x)]
    inputs[position] = None
    name = (*TENSOR_ARGS, 'grad_output')[position]
    with pytest.raises(RuntimeError, match=f'dcnv3: {name} must be a torch.Tensor, got None'):
        torch.ops.ops_dcnv3.dcnv3_backward(*inputs, *op_args())
    if position < 3:
        with pytest.raises(RuntimeError, match=f'dcnv3: {name} must be a torch.Tensor, got None'):
            torch.ops.ops_dcnv3.dcnv3(*inputs[:3], *op_args())


def test_backward_op_checks_grad_output():
    if not ops_dcnv3.EXTENSION_AVAILABLE:
        pytest.skip('compiled extension not built')
    x, offset, mask = good()
    with pytest.raises(RuntimeError, match='grad_output'):
        torch.ops.ops_dcnv3.dcnv3_backward(x, offset, mask, x[:, :4], *op_args())


def test_module_rejects_wrong_layout():
    module = ops_dcnv3.DCNv3(channels=16, group=4)
    with pytest.raises(ValueError, match='channels-last'):
        module(torch.zeros(1, 16, 5, 5))


NOT_TENSORS = {'numpy': np.zeros((2, 8, 8, 64), dtype=np.float32), 'None': None,
               'list': [[0.0]]}


@pytest.mark.parametrize('path', [dcnv3, dcnv3_reference], ids=PATH_IDS[:2])
@pytest.mark.parametrize('position', range(3), ids=TENSOR_ARGS)
@pytest.mark.parametrize('value', NOT_TENSORS.values(), ids=NOT_TENSORS.keys())
def test_non_tensor_inputs_raise_type_error_naming_the_argument(path, position, value):
    inputs = list(good())
    inputs[position] = value
    with pytest.raises(TypeError, match=f'{TENSOR_ARGS[position]} must be a torch.Tensor'):
        path(*inputs, *op_args())


@pytest.mark.parametrize('module_type', [ops_dcnv3.DCNv3, ops_dcnv3.DCNv3_pytorch])
@pytest.mark.parametrize('value', NOT_TENSORS.values(), ids=NOT_TENSORS.keys())
def test_module_rejects_non_tensor_input(module_type, value):
    with pytest.raises(TypeError, match='input must be a torch.Tensor'):
        module_type(channels=64, group=4)(value)


# (module arguments, the message naming the bad one)
BAD_MODULE_ARGS = {
    'group 0': (dict(group=0), r'group must be an integer >= 1, got 0'),
    'group -2': (dict(group=-2), r'group must be an integer >= 1, got -2'),
    'channels 0': (dict(channels=0), r'channels must be an integer >= 1'),
    'indivisible': (dict(channels=30), r'channels \(30\) must be divisible by group \(4\)'),
    'kernel 3.5': (dict(kernel_size=3.5), r'kernel_size must be an integer >= 1, got 3.5'),
    'kernel 3.0': (dict(kernel_size=3.0), r'kernel_size must be an integer'),
    'stride 1.0': (dict(stride=1.0), r'stride must be an integer'),
    'pad "1"': (dict(pad='1'), r"pad must be an integer >= 0, got '1'"),
    'pad -1': (dict(pad=-1), r'pad must be an integer >= 0'),
    'dilation None': (dict(dilation=None), r'dilation must be an integer >= 1, got None'),
    'dilation True': (dict(dilation=True), r'dilation must be an integer'),
    'dw kernel 2.5': (dict(dw_kernel_size=2.5), r'dw_kernel_size must be an integer'),
    'dw kernel even': (dict(dw_kernel_size=4), r'dw_kernel_size .* must be odd'),
    # built but never runnable before: the op's output would not have the input's size
    'stride 2': (dict(stride=2), r'stride=2, kernel_size=3 and pad=1'),
    'kernel 2': (dict(kernel_size=2), r'stride=1, kernel_size=2 and pad=1'),
    'kernel 5 pad 1': (dict(kernel_size=5, pad=1), r'stride=1, kernel_size=5 and pad=1'),
    'dilation 2 pad 1': (dict(dilation=2), r'stride=1, kernel_size=3 and pad=1 \(dilation=2\)'),
}


@pytest.mark.parametrize('options, message', BAD_MODULE_ARGS.values(),
                         ids=BAD_MODULE_ARGS.keys())
def test_module_validates_its_arguments_at_construction(options, message):
    with pytest.raises(ValueError, match=f'DCNv3: {message}'):
        ops_dcnv3.DCNv3(**{'channels': 64, 'group': 4, **options})


def keeps_the_input_size(geometry, sizes=range(1, 13)):
    """Whether the op's output has the input's size for every input size in ``sizes``."""
    return all(geometry.output_size(size, size) == (size, size) for size in sizes)


def test_module_accepts_exactly_the_geometries_that_keep_the_input_size():
    """Every kernel/stride/pad/dilation of a small grid: the module is built exactly when the
    op's output size equals the input size at every input size, and those built run (output
    of the input's shape) at several sizes."""
    built = 0
    for kernel, stride, pad, dilation in itertools.product(range(1, 6), range(1, 4), range(4),
                                                           range(1, 4)):
        geometry = Geometry.from_args(*op_args(kernel, kernel, stride, pad, pad, dilation))
        options = dict(channels=4, group=2, kernel_size=kernel, dw_kernel_size=3,
                       stride=stride, pad=pad, dilation=dilation)
        if not keeps_the_input_size(geometry):
            with pytest.raises(ValueError, match=f'stride={stride}, kernel_size={kernel} and '
                                                 f'pad={pad}'):
                ops_dcnv3.DCNv3(**options)
            continue
        module = ops_dcnv3.DCNv3(**options)
        built += 1
        for height, width in ((1, 1), (2, 5), (7, 3)):
            assert module(torch.randn(1, height, width, 4)).shape == (1, height, width, 4)
    # (kernel, dilation, pad): 1x1 at dilation 1..3 with pad 0; (2, 2, 1); 3x3 with pad =
    # dilation 1..3; (4, 2, 3); (5, 1, 2)
    assert built == 9
