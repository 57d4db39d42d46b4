"""Bad input to the DCNv4 op gets an error naming the argument and the problem, from the Python
API, the reference and a raw torch.ops call alike (the C++ checks of csrc/dcnv3.cpp)."""
import pytest
import torch

import ops_dcnv3
from dcnv3_cases import make_inputs, offset_mask_of, op_args
from ops_dcnv3 import Geometry, dcnv4, dcnv4_reference
from ops_dcnv3.functional import dcnv3_op

needs_extension = pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE,
                                     reason='the compiled extension is not built')


def good():
    x, offset, mask = make_inputs(n=2, height=6, width=5, group=2, group_channels=4)
    return x, offset_mask_of(offset, mask, 2, 9), op_args(group=2, group_channels=4)


def call_raw(x, offset_mask, args):
    return torch.ops.ops_dcnv3.dcnv4(x, offset_mask, *args)


BAD = {
    'offset_mask width': (lambda x, om: (x, om[..., :55]),
                          r'offset_mask must have shape \(2, 6, 5, D\) \(N, H_out, W_out, D\) '
                          r'with D = group\*points\*3 = 54 or its round-up to a multiple of 8, '
                          r'56, got'),
    'offset_mask batch': (lambda x, om: (x, om[:1]), r'offset_mask must have shape \(2, 6, 5, D\)'),
    'offset_mask dtype': (lambda x, om: (x, om.float()), 'offset_mask has dtype torch.float32'),
    'input channels': (lambda x, om: (x[..., :7], om),
                       r'input of shape \(2, 6, 5, 7\) has 7 channels in its last dimension'),
    'input rank': (lambda x, om: (x[0], om), 'input must be 4-D channels-last'),
}


@pytest.mark.parametrize('make, message', BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize('fn', [dcnv4, dcnv4_reference], ids=['op', 'reference'])
def test_python_errors_name_the_problem(fn, make, message):
    x, offset_mask, args = good()
    bad = make(x, offset_mask)
    with pytest.raises((ValueError, TypeError), match=f'dcnv4: {message}'):
        fn(*bad, *args)


@needs_extension
@pytest.mark.parametrize('make, message', [
    (lambda x, om: (x, om[..., :55]), 'offset_mask must have shape'),
    (lambda x, om: (x, om[:1]), 'offset_mask must have shape'),
    (lambda x, om: (x, om.float()), 'offset_mask has dtype Float but input has dtype Double'),
    (lambda x, om: (x[..., :7], om), 'input has 7 channels'),
    (lambda x, om: (x, None), 'offset_mask must be a torch.Tensor, got None'),
], ids=['width', 'batch', 'dtype', 'channels', 'None'])
def test_raw_op_errors_name_the_problem(make, message):
    x, offset_mask, args = good()
    with pytest.raises(RuntimeError, match=f'dcnv4: {message}'):
        call_raw(*make(x, offset_mask), args)


def test_geometry_values_are_named_with_the_op():
    x, offset_mask, args = good()
    bad_args = args[:8] + (0,) + args[9:]  # group 0
    with pytest.raises(ValueError, match='dcnv4: group must be positive, got 0'):
        dcnv4(x, offset_mask, *bad_args)
    with pytest.raises(TypeError, match='dcnv4: offset_mask must be a torch.Tensor, got list'):
        dcnv4(x, [1.0], *args)


@needs_extension
def test_raw_op_refuses_out_of_range_values_by_name():
    x, offset_mask, args = good()
    huge_group = args[:8] + (2**31,) + args[9:]
    with pytest.raises(RuntimeError, match=r'dcnv4: group is out of range, got 2147483648'):
        call_raw(x, offset_mask, huge_group)
    # (2**31-1)**2 points of 3 entries each: more than an int64 holds
    side = 2**31 - 1
    huge_kernel = (side, side) + args[2:]
    message = r'dcnv4: group\*points\*3 \(the offsets and mask values\) is out of range'
    with pytest.raises(ValueError, match=message):
        Geometry.from_args(*huge_kernel, op='dcnv4')
    with pytest.raises(RuntimeError, match=message):
        call_raw(x, offset_mask, huge_kernel)


def test_a_geometry_of_the_other_op_is_refused():
    x, offset, mask = make_inputs(group=2, group_channels=4)
    with pytest.raises(ValueError, match='dcnv3: the geometry was built for dcnv4'):
        dcnv3_op(x, offset, mask, Geometry.from_args(*op_args(group=2, group_channels=4),
                                                     op='dcnv4'))
