"""The compiled DCNv3 op over a few hundred random geometries (fixed seed): every kernel, stride,
padding, dilation, group, group_channels, remove_center, offset_scale, im2col_step and size
mixes with every other, forward and the three gradients against the float64 reference; and
random invalid geometries raise the documented errors (docs/operator.md, "Arguments")."""
import random
import re

import pytest
import torch

import ops_dcnv3
from dcnv3_kernel_checks import assert_close, raw_results, reference_results
from ops_dcnv3 import Geometry, dcnv3, dcnv3_reference
from ops_dcnv3.geometry import FLAT_ARGS

pytestmark = pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE,
                                reason='compiled extension not built')

VALID_CASES = 300
INVALID_CASES = 200
GROUP_CHANNELS = (1, 2, 3, 5, 8, 16, 17, 32)  # 16 and 32 have unrolled CPU loops


def random_geometry_args(rng):
    """Flat op arguments (FLAT_ARGS order) of one random valid geometry."""
    kernel_h, kernel_w = rng.randint(1, 5), rng.randint(1, 5)
    odd_square = kernel_h == kernel_w and kernel_h % 2 == 1 and kernel_h > 1
    return (kernel_h, kernel_w, rng.randint(1, 3), rng.randint(1, 3), rng.randint(0, 3),
            rng.randint(0, 3), rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 4),
            rng.choice(GROUP_CHANNELS), rng.uniform(0.25, 2.5), rng.randint(1, 3),
            odd_square and rng.random() < 0.5)


def smallest_size(kernel, pad, dilation):
    """The smallest input length with an output along that axis."""
    return max(1, dilation * (kernel - 1) + 1 - 2 * pad)


def random_sizes(rng, geometry):
    """(N, H, W) with a non-empty output, H and W up to 8 pixels above the smallest such;
    N is 0 in about one case in ten."""
    height, width = (smallest_size(*axis) + rng.randint(0, 8)
                     for axis in zip(geometry.kernel, geometry.pad, geometry.dilation))
    return rng.choice((0, 1, 1, 1, 2, 2, 2, 2, 3, 3)), height, width


def random_inputs(seed, geometry, n, height, width):
    """float64 input, offsets spanning a few pixels either way, unnormalised masks, and a
    grad_output."""
    g = torch.Generator().manual_seed(seed)
    height_out, width_out = geometry.output_size(height, width)
    group_points = geometry.group * geometry.points
    x = torch.rand(n, height, width, geometry.channels, generator=g, dtype=torch.float64)
    offset = (torch.rand(n, height_out, width_out, group_points * 2, generator=g,
                         dtype=torch.float64) - 0.5) * 6
    mask = torch.rand(n, height_out, width_out, group_points, generator=g, dtype=torch.float64)
    grad_output = torch.randn(n, height_out, width_out, geometry.channels, generator=g,
                              dtype=torch.float64)
    return [x, offset, mask], grad_output


def valid_cases():
    rng = random.Random(20261203)
    for index in range(VALID_CASES):
        geometry = Geometry.from_args(*random_geometry_args(rng))
        yield index, geometry, random_sizes(rng, geometry)


def test_random_geometries_match_the_reference():
    names = ('output', 'grad_input', 'grad_offset', 'grad_mask')
    non_zero = 0
    for index, geometry, (n, height, width) in valid_cases():
        inputs, grad_output = random_inputs(index, geometry, n, height, width)
        args = geometry.op_args()
        expected = reference_results(inputs, args, grad_output)
        actual = raw_results(torch.ops.ops_dcnv3, inputs, args, grad_output)
        label = f'case {index}: {geometry} on {n}x{height}x{width}'
        for name, result, ref in zip(names, actual, expected):
            assert result.shape == ref.shape, f'{label}: {name}'
            if n:  # (an empty batch has nothing more to compare)
                assert_close(result, ref, 1e-9, f'{label}: {name}')
        non_zero += n > 0 and all(ref.abs().max() > 0 for ref in expected)
    # most cases really sample the image (the others sample only padding, or N = 0)
    assert non_zero > 0.7 * VALID_CASES, non_zero


# The documented errors: the field named in a ValueError (Python API) or, from the raw op's own
# checks, a RuntimeError naming its family.
BAD_VALUES = {'positive': (0, -1, -3), 'pad': (-1, -2), 'not_integer': (2.5, 1.0, True, None)}


def random_invalid_case(rng):
    """(geometry args with one bad value, the name it must be reported under, whether the raw
    op can take the value through its int schema)."""
    args = list(random_geometry_args(rng))
    name = rng.choice(FLAT_ARGS[:10] + ('im2col_step',))
    kind = 'not_integer' if rng.random() < 0.3 else 'pad' if name.startswith('pad') \
        else 'positive'
    value = rng.choice(BAD_VALUES[kind])
    args[FLAT_ARGS.index(name)] = value
    return args, name, kind != 'not_integer'


def assert_raises(errors, pattern, label, call, *args):
    """pytest.raises with the case named in the failure message."""
    try:
        call(*args)
    except errors as exc:
        assert re.search(pattern, str(exc)), f'{label}: {exc}'
    else:
        pytest.fail(f'{label}: no error')


def test_random_invalid_geometries_raise_the_documented_errors():
    rng = random.Random(7)
    inputs, _ = random_inputs(0, Geometry.from_args(3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 1.0, 1),
                              1, 5, 5)
    for index in range(INVALID_CASES):
        args, name, raw_too = random_invalid_case(rng)
        label = f'case {index}: {name} = {args[FLAT_ARGS.index(name)]!r}'
        for path in (dcnv3, dcnv3_reference):
            assert_raises(ValueError, f'dcnv3: {name} ', label, path, *inputs, *args)
        if raw_too:
            family = 'pad' if name.startswith('pad') else name.split('_')[0]
            assert_raises(RuntimeError, family, label, torch.ops.ops_dcnv3.dcnv3, *inputs, *args)


def test_random_remove_center_and_sizes_that_do_not_fit_raise():
    """remove_center on an even or non-square kernel, an input too small for the kernel and
    an empty image: ValueError on the Python paths, RuntimeError from the raw op."""
    rng = random.Random(11)
    for index in range(100):
        args = list(random_geometry_args(rng))
        kernel_h, kernel_w = args[:2]
        label = f'case {index}: {args}'
        if not (kernel_h == kernel_w and kernel_h % 2 == 1):
            args[12] = True
            assert_raises(ValueError, 'remove_center needs a square kernel', label,
                          Geometry.from_args, *args)
            continue
        geometry = Geometry.from_args(*args)
        height = rng.choice([0] + [h for h in range(1, 9)
                                   if geometry.output_size(h, 9)[0] < 1])
        x = torch.zeros(1, height, 9, geometry.channels, dtype=torch.float64)
        message = 'empty spatial dimension' if height == 0 else 'too small'
        for path, error in ((dcnv3, ValueError), (dcnv3_reference, ValueError),
                            (torch.ops.ops_dcnv3.dcnv3, RuntimeError)):
            assert_raises(error, message, f'{label}, H = {height}', path, x, x, x,
                          *geometry.op_args())
