"""FLOPs of the DCNv3 core op for mmengine's FlopAnalyzer. The analyzer traces the model with
torch.jit and counts only the ops it has a handle for; ``ops_dcnv3::dcnv3`` is a custom op, so
without this handle its sampling work would be reported as unsupported and counted as zero.

Count (one multiply-add = one FLOP, the convention of mmengine's and fvcore's counters): every
output element (n, h, w, c) sums P sampled points (P = kernel_h * kernel_w, minus one with
remove_center), each a bilinear interpolation of 4 corners (4 multiply-adds) scaled by its mask
weight (1 multiply-add):

    FLOPs = N * H_out * W_out * C * P * 5

which is the published count (5 * H * W * P * C per layer). Sampling locations and corner
weights are computed once per (n, h, w, group, point), a factor group_channels fewer, and are left
out as in the published count; the projections around the op are ordinary Linear/conv layers
that the analyzer counts itself."""
from math import prod

from mmengine.analysis.jit_handles import get_shape

from .geometry import TENSOR_ARGS, Geometry

DCNV3_OP = 'ops_dcnv3::dcnv3'
FLOPS_PER_SAMPLED_POINT = 5  # 4 bilinear corners + 1 mask weight


def dcnv3_flops(output_shape, points):
    """FLOPs of one DCNv3 op call with ``output_shape`` (N, H_out, W_out, C) and ``points``
    sampled points per group."""
    return prod(output_shape) * points * FLOPS_PER_SAMPLED_POINT


def dcnv3_flop_jit(inputs, outputs):
    """FlopAnalyzer handle: the points per group come from the call's Geometry, built from the
    schema's arguments after the tensors (constants of the traced call)."""
    geometry = Geometry.from_args(*(value.toIValue() for value in inputs[len(TENSOR_ARGS):]))
    return dcnv3_flops(get_shape(outputs[0]), geometry.points)


def add_dcnv3_handle(analyzer):
    """Registers the DCNv3 handle on an mmengine FlopAnalyzer; returns the analyzer."""
    analyzer.set_op_handle(**{DCNV3_OP: dcnv3_flop_jit})
    return analyzer
