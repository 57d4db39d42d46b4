"""The DCNv4 op (docs/operator.md, "DCNv4"): what the published kernels compute, worked out by hand
from their math (OpenGVLab/DCNv4, src/cuda/dcnv4_im2col_cuda.cuh and common.h: the layout of
offset_mask, the location formula, bilinear sampling, the mask used as given), then the compiled
CPU kernels and the host build of the CUDA kernels against the reference over the DCNv3 grid, in
every dtype, with padding entries that must never be read."""
import pytest
import torch

import ops_dcnv3
from cuda_host import host_ops
from dcnv3_cases import CASE_IDS, CASES, make_inputs, offset_mask_of, op_args
from dcnv4_kernel_checks import GARBAGE, check_kernels
from ops_dcnv3 import Geometry, dcnv3_reference, dcnv4, dcnv4_reference
from ops_dcnv3.reference import split_offset_mask

needs_extension = pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE,
                                     reason='the compiled extension is not built')


def grid_image(height=5, width=5, channels=1):
    """Pixel (h, w), channel c holds 100*h + 10*w + c: a sample names where it was taken."""
    h = torch.arange(height, dtype=torch.float64)[:, None, None]
    w = torch.arange(width, dtype=torch.float64)[None, :, None]
    c = torch.arange(channels, dtype=torch.float64)[None, None, :]
    return (100 * h + 10 * w + c)[None]


def one_point(group, points, height, width, grp, point, x=0.0, y=0.0, weight=1.0):
    """offset_mask (padded, garbage in the padding) in which only point ``point`` of group
    ``grp`` has a mask value (``weight``), and offset (x, y)."""
    offset = torch.zeros(1, height, width, group, points, 2, dtype=torch.float64)
    mask = torch.zeros(1, height, width, group, points, dtype=torch.float64)
    offset[..., grp, point, :] = torch.tensor([x, y], dtype=torch.float64)
    mask[..., grp, point] = weight
    return offset_mask_of(offset.flatten(-3), mask.flatten(-2), group, points, fill=GARBAGE)


def close(actual, expected):
    """Equal up to the rounding of grid_sample's normalised coordinates (the reference)."""
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-9)


@pytest.fixture(params=['reference', 'op'])
def dcnv4_fn(request):
    return {'reference': dcnv4_reference, 'op': dcnv4}[request.param]


def test_layout_group_pairs_then_mask_values_and_no_softmax(dcnv4_fn):
    """Group 1's point 5 of a 3x3 kernel is column i=1, row j=2 (the published loops run over
    columns outside, rows inside): with pad 1 it samples (h+1, w); its mask value 2.5 is used
    as given (no softmax: the published DCNv4Function passes softmax=False); group 0 has no
    mask value, so its channels are 0."""
    image = grid_image(channels=2).repeat(1, 1, 1, 2)  # 2 groups of 2 channels
    offset_mask = one_point(2, 9, 5, 5, grp=1, point=5, weight=2.5)
    assert offset_mask.shape[-1] == 56  # 2*9*3 = 54, padded to 56 as the published module
    out = dcnv4_fn(image, offset_mask, *op_args(group=2, group_channels=2))
    rows = torch.arange(5, dtype=torch.float64)
    expected = 2.5 * (100 * (rows[:, None] + 1) + 10 * rows[None, :])
    expected[4] = 0  # row 5 lies outside the image: zero padding
    close(out[0, ..., 2], expected)
    close(out[0, ..., 3], torch.where(expected != 0, expected + 2.5, 0.0))
    close(out[0, ..., :2], torch.zeros(5, 5, 2, dtype=torch.float64))


def test_offsets_are_x_then_y_and_scaled_with_the_grid(dcnv4_fn):
    """loc = origin + (grid + offset) * offset_scale: point 0 (i=0, j=0, grid (-1, -1)) with
    offset (x=0.5, y=1.5) and offset_scale 2 samples at (h + (-1+1.5)*2, w + (-1+0.5)*2) =
    (h+1, w-1) of the 5x5 image."""
    image = grid_image()
    offset_mask = one_point(1, 9, 5, 5, grp=0, point=0, x=0.5, y=1.5)
    out = dcnv4_fn(image, offset_mask, *op_args(group=1, group_channels=1, offset_scale=2.0))
    assert out[0, 2, 2, 0].item() == pytest.approx(100 * 3 + 10 * 1)
    assert out[0, 0, 0, 0].item() == pytest.approx(0)  # (1, -1): outside
    # a fractional location blends the four neighbours bilinearly: x=0.25 -> (h+1, w-0.5)
    offset_mask = one_point(1, 9, 5, 5, grp=0, point=0, x=0.75, y=1.5)
    out = dcnv4_fn(image, offset_mask, *op_args(group=1, group_channels=1, offset_scale=2.0))
    assert out[0, 2, 2, 0].item() == pytest.approx(100 * 3 + 10 * 1.5)
    # column -0.5 of row 1: half of pixel (1, 0), the other half outside
    assert out[0, 0, 0, 0].item() == pytest.approx(0.5 * (100 * 1 + 10 * 0))


def test_remove_center_skips_the_centre_point(dcnv4_fn):
    """With remove_center a 3x3 kernel has 8 points; the published loop skips (i=1, j=1), so
    point 4 is (i=1, j=2), the pixel below; offset_mask has 8*3=24 entries (already a multiple
    of 8)."""
    image = grid_image()
    offset_mask = one_point(1, 8, 5, 5, grp=0, point=4)
    assert offset_mask.shape[-1] == 24
    out = dcnv4_fn(image, offset_mask,
                   *op_args(group=1, group_channels=1, remove_center=True))
    assert out[0, 1, 3, 0].item() == pytest.approx(100 * 2 + 10 * 3)


def test_is_dcnv3_on_the_split_tensors():
    """The published DCNv4 kernels compute DCNv3's sampling (the same location formula, corners
    and zero padding) of the offsets and mask values offset_mask holds."""
    x, offset, mask = make_inputs(group=3, group_channels=5, remove_center=True)
    args = op_args(group=3, group_channels=5, offset_scale=1.3, remove_center=True)
    offset_mask = offset_mask_of(offset, mask, 3, 8, fill=GARBAGE)
    expected = dcnv3_reference(x, offset, mask, *args)
    torch.testing.assert_close(dcnv4_reference(x, offset_mask, *args), expected)
    split = split_offset_mask(offset_mask, Geometry.from_args(*args, op='dcnv4'))
    assert torch.equal(split[0], offset) and torch.equal(split[1], mask)
    if ops_dcnv3.EXTENSION_AVAILABLE:
        torch.testing.assert_close(dcnv4(x, offset_mask, *args), expected)


@pytest.mark.parametrize('padded', [True, False])
def test_both_widths_of_offset_mask_are_taken(padded):
    """D = group*points*3 (unpadded) or its round-up to 8 (published); the result is the same."""
    x, offset, mask = make_inputs(group=2, group_channels=4)
    args = op_args(group=2, group_channels=4)
    offset_mask = offset_mask_of(offset, mask, 2, 9, padded=padded, fill=GARBAGE)
    assert offset_mask.shape[-1] == (56 if padded else 54)
    torch.testing.assert_close(dcnv4(x, offset_mask, *args), dcnv3_reference(x, offset, mask,
                                                                             *args))


@needs_extension
@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_cpu_kernels_match_the_reference(case, dtype):
    check_kernels(torch.ops.ops_dcnv3, 'cpu', case, dtype)


@needs_extension
@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_host_build_of_the_cuda_kernels_matches_the_reference(case, dtype):
    check_kernels(host_ops(), 'cpu', case, dtype)


@needs_extension
def test_gradcheck_float64():
    x, offset, mask = make_inputs(n=1, height=5, width=4, group=2, group_channels=3,
                                  offset_range=3.0, remove_center=True)
    args = op_args(group=2, group_channels=3, offset_scale=1.3, remove_center=True)
    offset_mask = offset_mask_of(offset, mask, 2, 8)
    leaves = [t.requires_grad_(True) for t in (x, offset_mask)]
    assert torch.autograd.gradcheck(lambda a, b: dcnv4(a, b, *args), leaves)
    assert torch.autograd.gradgradcheck(lambda a, b: dcnv4(a, b, *args), leaves)


@needs_extension
def test_opcheck_and_compile_fullgraph():
    x, offset, mask = make_inputs(n=2, height=5, width=6, group=2, group_channels=4,
                                  dtype=torch.float32)
    args = op_args(group=2, group_channels=4)
    offset_mask = offset_mask_of(offset, mask, 2, 9)
    torch.library.opcheck(torch.ops.ops_dcnv3.dcnv4.default,
                          (x.requires_grad_(), offset_mask.requires_grad_(), *args))
    compiled = torch.compile(lambda a, b: dcnv4(a, b, *args), fullgraph=True, backend='aot_eager')
    torch.testing.assert_close(compiled(x, offset_mask), dcnv4(x, offset_mask, *args))


@needs_extension
def test_autocast_runs_in_the_autocast_dtype():
    x, offset, mask = make_inputs(group=2, group_channels=4, dtype=torch.float32)
    offset_mask = offset_mask_of(offset, mask, 2, 9)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = dcnv4(x, offset_mask, *op_args(group=2, group_channels=4))
    assert out.dtype == torch.bfloat16


@needs_extension
def test_empty_batch_and_non_contiguous_offset_mask():
    x, offset, mask = make_inputs(group=2, group_channels=4)
    args = op_args(group=2, group_channels=4)
    wide = offset_mask_of(offset, mask, 2, 9, padded=False)
    strided = torch.cat([wide, wide], dim=-1)[..., :54]  # a view with a row stride of 108
    assert not strided.is_contiguous()
    torch.testing.assert_close(dcnv4(x, strided, *args), dcnv3_reference(x, offset, mask, *args))
    empty = dcnv4(x[:0], strided[:0], *args)
    assert empty.shape == (0, 8, 8, 8)
