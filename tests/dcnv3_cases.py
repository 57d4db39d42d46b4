"""Inputs and parameter grids for the DCNv3 operator tests (CPU and CUDA share them), and
``perturbed``, which gives a module (a DCNv3 layer or a model built of them) non-zero offsets
and masks."""

import torch

from ops_dcnv3.geometry import Geometry

# (kernel_h, kernel_w, stride, pad_h, pad_w, dilation, offset_scale, remove_center)
GEOMETRIES = [
    (3, 3, 1, 1, 1, 1, 2.0, False),  # the published test setting
    (3, 3, 1, 1, 1, 1, 1.0, True),
    (5, 5, 1, 2, 2, 1, 1.0, True),
    (3, 3, 2, 1, 1, 1, 1.0, False),
    (3, 3, 1, 2, 2, 2, 1.0, False),
    (3, 5, 1, 1, 2, 1, 1.5, False),  # non-square kernel, unequal padding (a published bug)
    (3, 3, 1, 0, 0, 1, 1.0, False),
    (1, 1, 1, 0, 0, 1, 1.0, False),
]
GROUP_CHANNELS = [1, 16, 30, 32, 64, 71]


def perturbed(model, scale=0.1, seed=0):
    """Random changes to every parameter: offsets and masks become non-zero (the deformable
    sampling is really exercised), layer scales and norms non-trivial."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale)
    return model


def make_inputs(n=2, height=8, width=8, group=4, group_channels=16, kernel_h=3, kernel_w=3,
                stride=1, pad_h=1, pad_w=1, dilation=1, remove_center=False,
                dtype=torch.float64, device='cpu', offset_range=10.0, seed=0):
    """The published test inputs: input rand*0.01, offset rand*offset_range (centred so points
    move both ways), mask normalised per group."""
    g = torch.Generator().manual_seed(seed)
    geometry = Geometry.from_args(*op_args(kernel_h, kernel_w, stride, pad_h, pad_w, dilation,
                                           group, group_channels, remove_center=remove_center))
    h_out, w_out = geometry.output_size(height, width)
    points = geometry.points
    x = torch.rand(n, height, width, group * group_channels, generator=g, dtype=torch.float64)
    offset = (torch.rand(n, h_out, w_out, group * points * 2, generator=g,
                         dtype=torch.float64) - 0.5) * offset_range
    mask = torch.rand(n, h_out, w_out, group, points, generator=g, dtype=torch.float64)
    mask = (mask / mask.sum(-1, keepdim=True)).reshape(n, h_out, w_out, group * points)
    return [t.to(device, dtype) for t in (x * 0.01, offset, mask)]

def op_args(kernel_h=3, kernel_w=3, stride=1, pad_h=1, pad_w=1, dilation=1, group=4,
            group_channels=16, offset_scale=1.0, im2col_step=64, remove_center=False):
    return (kernel_h, kernel_w, stride, stride, pad_h, pad_w, dilation, dilation, group,
            group_channels, offset_scale, im2col_step, remove_center)

def geometry_cases():
    """Every geometry at gc=16, and every group_channels at the published geometry."""
    for geometry in GEOMETRIES:
        yield geometry + (4, 16)
    for gc in GROUP_CHANNELS:
        yield GEOMETRIES[0] + (2, gc)

def case_kwargs(case):
    kh, kw, stride, pad_h, pad_w, dilation, scale, remove_center, group, gc = case
    inputs = dict(kernel_h=kh, kernel_w=kw, stride=stride, pad_h=pad_h, pad_w=pad_w,
                  dilation=dilation, remove_center=remove_center, group=group, group_channels=gc)
    args = op_args(kh, kw, stride, pad_h, pad_w, dilation, group, gc, scale, 64, remove_center)
    return inputs, args

def case_id(case):
    kh, kw, stride, pad_h, pad_w, dilation, scale, remove_center, group, gc = case
    return (f'k{kh}x{kw}-s{stride}-p{pad_h}x{pad_w}-d{dilation}-os{scale}'
            f'{"-rc" if remove_center else ""}-g{group}-gc{gc}')

CASES = list(geometry_cases())
CASE_IDS = [case_id(c) for c in CASES]


def offset_mask_of(offset, mask, group, points, padded=True, fill=0.0):
    """DCNv4's offset_mask holding DCNv3's offset and mask: per group its P (x, y) pairs, then
    its P mask values; padded to a multiple of 8 entries filled with ``fill`` (which the op must
    never read)."""
    lead = offset.shape[:-1]
    per_group = torch.cat([offset.reshape(*lead, group, points * 2),
                           mask.reshape(*lead, group, points)], dim=-1).flatten(-2)
    entries = group * points * 3
    width = -(-entries // 8) * 8 if padded else entries
    padding = per_group.new_full((*lead, width - entries), fill)
    return torch.cat([per_group, padding], dim=-1)
