"""The Geometry of a DCNv3 call: the flat published arguments round-trip through it, its point
count and output size are those the op produces (checked against the reference, the compiled
op, whose C++ computes them on its own, and a convolution's output size), and invalid values
raise a ValueError naming the field."""
import copy
import dataclasses
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ops_dcnv3
from dcnv3_cases import CASES, CASE_IDS, case_kwargs, op_args
from ops_dcnv3 import DCNv3, Geometry, dcnv3, dcnv3_reference
from ops_dcnv3.geometry import FLAT_ARGS


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
def test_flat_arguments_round_trip(case):
    _, args = case_kwargs(case)
    geometry = Geometry.from_args(*args)
    assert geometry.op_args() == args
    assert tuple(geometry.named_args()) == FLAT_ARGS
    assert Geometry.from_args(**geometry.named_args()) == geometry
    assert hash(Geometry.from_args(*args)) == hash(geometry)


def test_fields_are_the_pairs_and_scalars_of_the_flat_arguments():
    geometry = Geometry.from_args(3, 5, 2, 1, 1, 2, 1, 3, 4, 16, 2, 64, 0)
    assert (geometry.kernel, geometry.stride, geometry.pad, geometry.dilation) == \
        ((3, 5), (2, 1), (1, 2), (1, 3))
    assert (geometry.group, geometry.group_channels, geometry.im2col_step) == (4, 16, 64)
    assert geometry.channels == 64
    # normalised to the schema's types: float offset_scale, bool remove_center
    assert type(geometry.offset_scale) is float and geometry.remove_center is False
    assert Geometry.from_args(3, 3, 1, 1, 1, 1, 1, 1, 4, 16, 1.0, 64, 1).remove_center is True
    assert Geometry.from_args(3, 3, 1, 1, 1, 1, 1, 1, 4, 16, 1.0, 64).remove_center is False
    with pytest.raises(AttributeError):
        geometry.group = 2  # frozen


# (op_args keywords, input height, width, expected (points, H_out, W_out)), worked out by hand
SIZE_CASES = {
    'remove_center': (dict(remove_center=True), 9, 7, (8, 9, 7)),
    'remove_center-5x5': (dict(kernel_h=5, kernel_w=5, pad_h=2, pad_w=2, remove_center=True),
                          9, 7, (24, 9, 7)),
    'stride2': (dict(stride=2), 9, 7, (9, 5, 4)),
    'dilation2': (dict(dilation=2), 9, 7, (9, 7, 5)),
    'pad0': (dict(pad_h=0, pad_w=0), 9, 7, (9, 7, 5)),
    'k3x5-pad1x2': (dict(kernel_w=5, pad_w=2), 9, 7, (15, 9, 7)),
    'k1x1-pad0': (dict(kernel_h=1, kernel_w=1, pad_h=0, pad_w=0), 9, 7, (1, 9, 7)),
}


@pytest.mark.parametrize('options, height, width, expected', SIZE_CASES.values(),
                         ids=SIZE_CASES.keys())
def test_points_and_output_size_are_what_the_op_produces(options, height, width, expected):
    args = op_args(group=2, group_channels=3, **options)
    geometry = Geometry.from_args(*args)
    points, height_out, width_out = expected
    assert geometry.points == points
    assert geometry.output_size(height, width) == (height_out, width_out)
    # a convolution with the same kernel, stride, padding and dilation has the same output size
    conv = F.conv2d(torch.zeros(1, 1, height, width), torch.zeros(1, 1, *geometry.kernel),
                    stride=geometry.stride, padding=geometry.pad, dilation=geometry.dilation)
    assert conv.shape[2:] == (height_out, width_out)

    n, group = 2, geometry.group
    x = torch.rand(n, height, width, geometry.channels, dtype=torch.float64)
    offset = torch.rand(n, height_out, width_out, group * points * 2, dtype=torch.float64)
    mask = torch.rand(n, height_out, width_out, group * points, dtype=torch.float64)
    paths = [dcnv3_reference, dcnv3]
    if ops_dcnv3.EXTENSION_AVAILABLE:  # make_geometry (C++) checks the shapes on its own
        paths.append(torch.ops.ops_dcnv3.dcnv3)
    for path in paths:
        assert path(x, offset, mask, *geometry.op_args()).shape == \
            (n, height_out, width_out, geometry.channels)
        # one point more or fewer in the mask is refused: the op expects exactly `points`
        for wrong in (points - 1, points + 1):
            with pytest.raises((ValueError, RuntimeError), match='mask'):
                path(x, offset, mask.new_zeros(n, height_out, width_out, group * wrong),
                     *geometry.op_args())


INVALID = [
    ('kernel_h', dict(kernel_h=0)), ('kernel_w', dict(kernel_w=-1)),
    ('stride_h', dict(stride_h=0)), ('stride_w', dict(stride_w=0)),
    ('dilation_h', dict(dilation_h=0)), ('dilation_w', dict(dilation_w=-2)),
    ('group', dict(group=0)), ('group_channels', dict(group_channels=0)),
    ('im2col_step', dict(im2col_step=0)),
    ('pad_h', dict(pad_h=-1)), ('pad_w', dict(pad_w=-1)),
    ('remove_center', dict(kernel_h=2, kernel_w=2, remove_center=True)),
    ('remove_center', dict(kernel_h=3, kernel_w=5, remove_center=True)),
    # the int values must be integers, not floats (even integral ones) or bools
    ('kernel_h', dict(kernel_h=3.5)), ('stride_w', dict(stride_w=2.0)),
    ('pad_h', dict(pad_h=1.0)), ('dilation_w', dict(dilation_w=False)),
    ('group', dict(group=True)), ('group_channels', dict(group_channels='16')),
    ('im2col_step', dict(im2col_step=None)), ('offset_scale', dict(offset_scale='2')),
    ('offset_scale', dict(offset_scale=None)),
]


@pytest.mark.parametrize('field, values', INVALID, ids=[f'{f}-{v}' for f, v in INVALID])
def test_invalid_values_raise_value_error_naming_the_field(field, values):
    valid = Geometry.from_args(*op_args()).named_args()
    with pytest.raises(ValueError, match=field):
        Geometry.from_args(**{**valid, **values})


def test_numpy_integers_are_taken_as_ints():
    """Sizes computed with numpy (e.g. from a config array) are integers: the Geometry keeps
    them as Python ints, as the dispatcher schema takes them."""
    geometry = Geometry.from_args(*(np.int64(v) if isinstance(v, int) else v
                                    for v in op_args()))
    assert geometry == Geometry.from_args(*op_args())
    assert all(type(v) is int for v in geometry.op_args()[:10])


def test_fields_must_be_pairs():
    valid = Geometry.from_args(*op_args())
    for name in ('kernel', 'stride', 'pad', 'dilation'):
        with pytest.raises(ValueError, match=f'{name} must be a pair'):
            dataclasses.replace(valid, **{name: 3})


def test_module_builds_the_published_geometry_once():
    module = DCNv3(channels=32, group=4, offset_scale=2.0, remove_center=True)
    assert module.geometry.op_args() == (3, 3, 1, 1, 1, 1, 1, 1, 4, 8, 2.0, 256, True)
    assert module.points == module.geometry.points == 8
    # a copied or pickled module (EMA, checkpoint of the whole model) keeps its geometry
    assert copy.deepcopy(module).geometry == module.geometry
    assert pickle.loads(pickle.dumps(module.geometry)) == module.geometry
    with pytest.raises(ValueError, match='DCNv3: stride must be an integer >= 1, got 0'):
        DCNv3(channels=32, group=4, stride=0)
