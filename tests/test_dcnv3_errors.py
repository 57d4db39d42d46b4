"""Bad input to DCNv3 gives a clear error naming the problem, on every path: the public
function, the reference and the raw dispatcher op (which must never crash the process)."""
import pytest
import torch

import ops_dcnv3
from dcnv3_cases import make_inputs, op_args
from ops_dcnv3 import dcnv3, dcnv3_reference

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


def test_backward_op_checks_grad_output():
    if not ops_dcnv3.EXTENSION_AVAILABLE:
        pytest.skip('compiled extension not built')
    x, offset, mask = good()
    with pytest.raises(RuntimeError, match='grad_output'):
        torch.ops.ops_dcnv3.dcnv3_backward(x, offset, mask, x[:, :4], *op_args())


def test_module_rejects_indivisible_channels_and_wrong_layout():
    with pytest.raises(ValueError, match='divisible'):
        ops_dcnv3.DCNv3(channels=30, group=4)
    module = ops_dcnv3.DCNv3(channels=16, group=4)
    with pytest.raises(ValueError, match='channels-last'):
        module(torch.zeros(1, 16, 5, 5))
