// Entry points of the DCNv3 extension: the argument checks every backend shares, and the
// per-device kernels the dispatcher calls (registered in dcnv3.cpp).
#pragma once

#include <ATen/ATen.h>

#include <tuple>

#include "dcnv3_geometry.h"

namespace dcnv3 {

// Checks shapes, dtypes and devices of one call (never trust the Python layer: the op is public
// through torch.ops) and returns the geometry the kernels use.
Geometry make_geometry(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                       int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                       int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                       int64_t group, int64_t group_channels, double offset_scale,
                       int64_t im2col_step, bool remove_center);

// The same for DCNv4's offset_mask (docs/operator.md, "DCNv4"): the geometry's layout locates
// the offsets and mask values in it.
Geometry make_geometry_v4(const at::Tensor& input, const at::Tensor& offset_mask,
                          int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                          int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                          int64_t group, int64_t group_channels, double offset_scale,
                          int64_t im2col_step, bool remove_center);

// The kernels read the offsets and mask values where g.layout says, in `offset` and `mask` (one
// tensor passed twice for DCNv4) and return the gradients in tensors of the same layout (for
// DCNv4 grad_offset and grad_mask are one zero-initialised tensor).
at::Tensor forward_cpu(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                       const Geometry& g);
std::tuple<at::Tensor, at::Tensor, at::Tensor> backward_cpu(const at::Tensor& input,
                                                            const at::Tensor& offset,
                                                            const at::Tensor& mask,
                                                            const at::Tensor& grad_output,
                                                            const Geometry& g);

// Also in the test-only host build of the CUDA kernels (DCNV3_HOST_CUDA, tests/cuda_host.py).
#if defined(DCNV3_WITH_CUDA) || defined(DCNV3_HOST_CUDA)
at::Tensor forward_cuda(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                        const Geometry& g);
std::tuple<at::Tensor, at::Tensor, at::Tensor> backward_cuda(const at::Tensor& input,
                                                             const at::Tensor& offset,
                                                             const at::Tensor& mask,
                                                             const at::Tensor& grad_output,
                                                             const Geometry& g);
#endif

}  // namespace dcnv3
