"""Pure-PyTorch DCNv3 and DCNv4: the ground truth of the tests and the fallback when the compiled
ops are missing. Written for clarity, not speed: it materialises all P samples of every pixel
(through grid_sample), chunked over the batch by im2col_step to bound that memory. The semantics
it implements are those of docs/operator.md, "Semantics" and "DCNv4"."""
import torch
import torch.nn.functional as F

from ._checks import check_tensors, check_tensors_v4
from .geometry import Geometry


def kernel_grid(geometry, device, dtype):
    """(P, 2) grid offsets (x, y) of the kernel points in the published x-major order."""
    kernel_h, kernel_w = geometry.kernel
    dilation_h, dilation_w = geometry.dilation
    i, j = torch.meshgrid(torch.arange(kernel_w, device=device),
                          torch.arange(kernel_h, device=device), indexing='ij')
    x = i * dilation_w - (dilation_w * (kernel_w - 1)) // 2
    y = j * dilation_h - (dilation_h * (kernel_h - 1)) // 2
    grid = torch.stack([x.reshape(-1), y.reshape(-1)], dim=-1).to(dtype)
    if geometry.remove_center:
        center = (kernel_h * kernel_w - 1) // 2
        grid = torch.cat([grid[:center], grid[center + 1:]])
    return grid


def sampling_locations(offset, height_out, width_out, geometry):
    """(N, H_out, W_out, G, P, 2) sampling locations (x, y) in unpadded input pixels."""
    n = offset.shape[0]
    (kernel_h, kernel_w), (stride_h, stride_w) = geometry.kernel, geometry.stride
    (pad_h, pad_w), (dilation_h, dilation_w) = geometry.pad, geometry.dilation
    device, dtype = offset.device, offset.dtype
    half_h = (dilation_h * (kernel_h - 1)) // 2
    half_w = (dilation_w * (kernel_w - 1)) // 2
    origin_x = half_w - pad_w + torch.arange(width_out, device=device, dtype=dtype) * stride_w
    origin_y = half_h - pad_h + torch.arange(height_out, device=device, dtype=dtype) * stride_h
    origin = torch.stack(torch.broadcast_tensors(origin_x[None, :], origin_y[:, None]), dim=-1)
    grid = kernel_grid(geometry, device, dtype)
    offset = offset.reshape(n, height_out, width_out, geometry.group, geometry.points, 2)
    return origin[None, :, :, None, None, :] + (grid + offset) * geometry.offset_scale


def dcnv3_sample(input, offset, mask, geometry):
    """The reference on the whole batch at once (no chunking, no argument checks): what the
    reference runs per chunk, and what the portable ONNX export traces, since it keeps the batch
    and image sizes dynamic (a chunk loop would be unrolled for the example batch)."""
    n, height, width, channels = input.shape
    group, group_channels, points = geometry.group, geometry.group_channels, geometry.points
    height_out, width_out = geometry.output_size(height, width)
    loc = sampling_locations(offset, height_out, width_out, geometry)
    # grid_sample (align_corners=False) puts pixel k at (2k+1)/size-1. Clamping to [-3, 3] keeps
    # every location that touches the image and turns huge ones into harmless zeros; NaN is
    # carried around grid_sample so that it reaches the output instead of vanishing.
    # Divided by each size on its own, not by a tensor made of them, so that an ONNX trace keeps
    # the image size dynamic.
    normalised = torch.stack([(2 * loc[..., 0] + 1) / width, (2 * loc[..., 1] + 1) / height], -1)
    normalised = (normalised - 1).clamp(-3, 3)
    nan_location = normalised.isnan().any(-1)
    normalised = normalised.nan_to_num(0.0)
    # (N*G, H_out*W_out, P, 2) grids over (N*G, gc, H, W) images.
    grid = normalised.permute(0, 3, 1, 2, 4, 5).reshape(n * group, height_out * width_out,
                                                        points, 2)
    value = input.reshape(n, height, width, group, group_channels).permute(0, 3, 4, 1, 2)
    value = value.reshape(n * group, group_channels, height, width)
    sampled = F.grid_sample(value, grid, mode='bilinear', padding_mode='zeros',
                            align_corners=False)
    nan_location = nan_location.permute(0, 3, 1, 2, 4).reshape(n * group, 1,
                                                              height_out * width_out, points)
    sampled = sampled.masked_fill(nan_location, float('nan'))
    weight = mask.reshape(n, height_out * width_out, group, points).permute(0, 2, 1, 3)
    out = (sampled * weight.reshape(n * group, 1, height_out * width_out, points)).sum(-1)
    out = out.reshape(n, group, group_channels, height_out, width_out).permute(0, 3, 4, 1, 2)
    return out.reshape(n, height_out, width_out, channels)


def split_offset_mask(offset_mask, geometry):
    """DCNv4's offset_mask (N, H_out, W_out, D) as DCNv3's offset (..., G*P*2) and mask
    (..., G*P): group g's P (x, y) pairs start at entry g*3P, its P mask values follow them, and
    entries past G*3P (the padding to a multiple of 8) are not read (docs/operator.md,
    "DCNv4")."""
    group, points = geometry.group, geometry.points
    # Sizes read from the tensor (not flatten/unflatten), so that an ONNX trace keeps them.
    n, height_out, width_out = offset_mask.shape[:3]
    per_group = offset_mask[..., :group * points * 3].reshape(n, height_out, width_out, group,
                                                                points * 3)
    offset = per_group[..., :points * 2].reshape(n, height_out, width_out, group * points * 2)
    mask = per_group[..., points * 2:].reshape(n, height_out, width_out, group * points)
    return offset, mask


def dcnv4_sample(input, offset_mask, geometry):
    """DCNv4 on the whole batch (no chunking, no checks): DCNv3's sampling of the offsets and mask
    values that offset_mask holds, which is what the published DCNv4 kernels compute (without
    their softmax option, which the published module never turns on)."""
    return dcnv3_sample(input, *split_offset_mask(offset_mask, geometry), geometry)


def by_chunks(sample, input, point_tensors, geometry):
    """``sample(input, *point_tensors, geometry)`` in chunks of im2col_step images."""
    step = geometry.im2col_step
    # An empty batch is one empty chunk, so that its (empty) output stays on the autograd graph.
    chunks = [sample(input[start:start + step], *(t[start:start + step] for t in point_tensors),
                     geometry)
              for start in range(0, max(input.shape[0], 1), step)]
    return chunks[0] if len(chunks) == 1 else torch.cat(chunks)


def dcnv3_reference(input, offset, mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                    dilation_h, dilation_w, group, group_channels, offset_scale, im2col_step,
                    remove_center=False):
    """DCNv3 by grid_sample; same arguments and semantics as ops_dcnv3.dcnv3."""
    return dcnv3_reference_op(input, offset, mask, Geometry.from_args(
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, group,
        group_channels, offset_scale, im2col_step, remove_center))


def dcnv3_reference_op(input, offset, mask, geometry):
    """``dcnv3_reference`` on a Geometry, checked and chunked over the batch by im2col_step."""
    check_tensors(input, offset, mask, geometry)
    return by_chunks(dcnv3_sample, input, (offset, mask), geometry)


def dcnv4_reference(input, offset_mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                    dilation_h, dilation_w, group, group_channels, offset_scale, im2col_step,
                    remove_center=False):
    """DCNv4 by grid_sample; same arguments and semantics as ops_dcnv3.dcnv4."""
    return dcnv4_reference_op(input, offset_mask, Geometry.from_args(
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, group,
        group_channels, offset_scale, im2col_step, remove_center, op='dcnv4'))


def dcnv4_reference_op(input, offset_mask, geometry):
    """``dcnv4_reference`` on a Geometry, checked and chunked over the batch by im2col_step."""
    check_tensors_v4(input, offset_mask, geometry)
    return by_chunks(dcnv4_sample, input, (offset_mask,), geometry)
