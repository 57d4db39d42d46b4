// DCNv3 CUDA kernels and their launches (DCNv4 runs them too: the geometry's layout says where
// its offsets and mask values lie). Forward: one thread per (pixel, group, channel), so a
// warp reads contiguous channels of each sampled corner (coalesced). Backward: one thread per
// (pixel, group, point) reduces the offset/mask gradients over the group's channels in registers
// and scatters the input gradient with atomics into a float (or double) buffer. All indices are
// 64-bit and loops grid-strided, so any batch, any group_channels and large inputs are safe.
//
// nvcc compiles this header through dcnv3_cuda.cu into the extension. The same lines also compile
// as ordinary C++ with host_shim.h (the test-only host build, tests/cuda_host.py), which walks the
// grid serially on CPU tensors, so CI checks the kernels' math against the reference without a GPU.
// Exactly one translation unit includes it (it defines forward_cuda and backward_cuda).
#pragma once

#include <ATen/Context.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "../dcnv3.h"

#if defined(__CUDACC__)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#else
#include "host_shim.h"
#endif

namespace dcnv3 {
namespace cuda_kernels {

#if defined(__CUDACC__)
using DeviceGuard = c10::cuda::CUDAGuard;

template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), int64_t blocks, int threads, Args&&... args) {
  kernel<<<blocks, threads, 0, at::cuda::getCurrentCUDAStream()>>>(std::forward<Args>(args)...);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}
#else
using host::DeviceGuard;
using host::launch;
#endif

constexpr int kThreads = 256;

inline int64_t num_blocks(int64_t work) {
  const int64_t max_blocks = int64_t(1) << 20;  // grid-stride loops cover the rest
  return std::max<int64_t>(1, std::min<int64_t>((work + kThreads - 1) / kThreads, max_blocks));
}

template <typename scalar_t, typename acc_t>
__device__ __forceinline__ acc_t load(const scalar_t* base, bool valid, int64_t index) {
  return valid ? static_cast<acc_t>(base[index]) : acc_t(0);
}

template <typename scalar_t>
__global__ void forward_kernel(const scalar_t* __restrict__ input,
                               const scalar_t* __restrict__ offset,
                               const scalar_t* __restrict__ mask, scalar_t* __restrict__ output,
                               const Geometry g, int64_t total) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t C = g.channels(), gc = g.group_channels, P = g.points;
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(gridDim.x) * blockDim.x) {
    const int64_t pixel = index / C, channel = index % C;
    const int64_t grp = channel / gc;
    const int64_t w_out = pixel % g.width_out;
    const int64_t h_out = (pixel / g.width_out) % g.height_out;
    const int64_t n = pixel / (g.width_out * g.height_out);
    const PointGrid<acc_t> grid(g, h_out, w_out);
    const scalar_t* image = input + n * g.height_in * g.width_in * C + channel;
    const scalar_t* off = offset + g.layout.offset_index(pixel, grp);
    const scalar_t* msk = mask + g.layout.mask_index(pixel, grp);
    acc_t acc = 0;
    for (int64_t p = 0; p < P; ++p) {
      int64_t i, j;
      point_position(g, p, i, j);
      const acc_t h = grid.loc_h(g, j, static_cast<acc_t>(off[2 * p + 1]));
      const acc_t w = grid.loc_w(g, i, static_cast<acc_t>(off[2 * p]));
      // The sample: bilinear inside, zero outside, NaN at a NaN location (a NaN offset must
      // not vanish silently); times the mask, so a non-finite mask reaches the output as in
      // the reference (inf times a sample, NaN times the zero of a sample outside).
      acc_t value = nan_location(h, w) ? std::numeric_limits<acc_t>::quiet_NaN() : acc_t(0);
      if (inside(h, w, g.height_in, g.width_in)) {
        const Bilinear<acc_t> b(h, w, g.height_in, g.width_in);
        const int64_t o00 = (b.h_low * g.width_in + b.w_low) * C;
        const int64_t o10 = o00 + g.width_in * C;
        value = b.w00() * load<scalar_t, acc_t>(image, b.v00, o00) +
                b.w01() * load<scalar_t, acc_t>(image, b.v01, o00 + C) +
                b.w10() * load<scalar_t, acc_t>(image, b.v10, o10) +
                b.w11() * load<scalar_t, acc_t>(image, b.v11, o10 + C);
      }
      acc += static_cast<acc_t>(msk[p]) * value;
    }
    output[index] = static_cast<scalar_t>(acc);
  }
}

// The offset gradient sums mask*grad_output times the bilinear derivative per channel (not the
// mask times the sum), as the reference's grid_sample backward does, so that a non-finite mask
// gives the same inf/NaN gradients.
template <typename scalar_t, typename acc_t>
__global__ void backward_kernel(const scalar_t* __restrict__ input,
                                const scalar_t* __restrict__ offset,
                                const scalar_t* __restrict__ mask,
                                const scalar_t* __restrict__ grad_output,
                                acc_t* __restrict__ grad_input, scalar_t* __restrict__ grad_offset,
                                scalar_t* __restrict__ grad_mask, const Geometry g,
                                int64_t total) {
  const int64_t C = g.channels(), gc = g.group_channels, P = g.points;
  const acc_t scale = static_cast<acc_t>(g.offset_scale);
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = index % P;
    const int64_t point_base = index / P;  // (pixel, group)
    const int64_t grp = point_base % g.group, pixel = point_base / g.group;
    const int64_t w_out = pixel % g.width_out;
    const int64_t h_out = (pixel / g.width_out) % g.height_out;
    const int64_t n = pixel / (g.width_out * g.height_out);
    const PointGrid<acc_t> grid(g, h_out, w_out);
    int64_t i, j;
    point_position(g, p, i, j);
    const int64_t at_offset = g.layout.offset_index(pixel, grp) + 2 * p;
    const int64_t at_mask = g.layout.mask_index(pixel, grp) + p;
    const acc_t h = grid.loc_h(g, j, static_cast<acc_t>(offset[at_offset + 1]));
    const acc_t w = grid.loc_w(g, i, static_cast<acc_t>(offset[at_offset]));
    // At a NaN location the sample, hence the mask gradient, is NaN; nothing flows further.
    acc_t d_mask = nan_location(h, w) ? std::numeric_limits<acc_t>::quiet_NaN() : acc_t(0);
    acc_t d_h = 0, d_w = 0;
    if (inside(h, w, g.height_in, g.width_in)) {
      const Bilinear<acc_t> b(h, w, g.height_in, g.width_in);
      const acc_t m = static_cast<acc_t>(mask[at_mask]);
      const int64_t slice = n * g.height_in * g.width_in * C + grp * gc;
      const scalar_t* image = input + slice;
      acc_t* grad_image = grad_input + slice;
      const scalar_t* go = grad_output + pixel * C + grp * gc;
      const int64_t o00 = (b.h_low * g.width_in + b.w_low) * C;
      const int64_t o01 = o00 + C, o10 = o00 + g.width_in * C, o11 = o10 + C;
      for (int64_t c = 0; c < gc; ++c) {
        const acc_t gout = static_cast<acc_t>(go[c]);
        const acc_t x00 = load<scalar_t, acc_t>(image, b.v00, o00 + c);
        const acc_t x01 = load<scalar_t, acc_t>(image, b.v01, o01 + c);
        const acc_t x10 = load<scalar_t, acc_t>(image, b.v10, o10 + c);
        const acc_t x11 = load<scalar_t, acc_t>(image, b.v11, o11 + c);
        const acc_t mg = m * gout;
        d_mask += gout * (b.w00() * x00 + b.w01() * x01 + b.w10() * x10 + b.w11() * x11);
        d_w += mg * (b.hh * (x01 - x00) + b.lh * (x11 - x10));
        d_h += mg * (b.hw * (x10 - x00) + b.lw * (x11 - x01));
        if (b.v00) atomicAdd(grad_image + o00 + c, b.w00() * mg);
        if (b.v01) atomicAdd(grad_image + o01 + c, b.w01() * mg);
        if (b.v10) atomicAdd(grad_image + o10 + c, b.w10() * mg);
        if (b.v11) atomicAdd(grad_image + o11 + c, b.w11() * mg);
      }
      d_w *= scale;
      d_h *= scale;
    }
    grad_mask[at_mask] = static_cast<scalar_t>(d_mask);
    grad_offset[at_offset] = static_cast<scalar_t>(d_w);
    grad_offset[at_offset + 1] = static_cast<scalar_t>(d_h);
  }
}

}  // namespace cuda_kernels

at::Tensor forward_cuda(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                        const Geometry& g) {
  using namespace cuda_kernels;
  const DeviceGuard guard(input.device());
  auto output = at::empty({g.batch, g.height_out, g.width_out, g.channels()}, input.options());
  const int64_t total = output.numel();
  if (total == 0) return output;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "dcnv3_cuda", [&] {
    launch(forward_kernel<scalar_t>, num_blocks(total), kThreads,
           input.const_data_ptr<scalar_t>(), offset.const_data_ptr<scalar_t>(),
           mask.const_data_ptr<scalar_t>(), output.mutable_data_ptr<scalar_t>(), g, total);
  });
  return output;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> backward_cuda(const at::Tensor& input,
                                                             const at::Tensor& offset,
                                                             const at::Tensor& mask,
                                                             const at::Tensor& grad_output,
                                                             const Geometry& g) {
  using namespace cuda_kernels;
  const DeviceGuard guard(input.device());
  const auto acc_type = at::toOpMathType(input.scalar_type());
  auto grad_input = at::zeros(input.sizes(), input.options().dtype(acc_type));
  auto grad_offset = at::zeros_like(offset);
  // One tensor holds both for DCNv4 (g.layout.shared); its padding entries keep their zeros.
  auto grad_mask = g.layout.shared ? grad_offset : at::zeros_like(mask);
  // one thread per (pixel, group, point)
  const int64_t total = g.batch * g.height_out * g.width_out * g.group * g.points;
  if (total > 0 && input.numel() > 0) {
    // The atomics sum the input gradient in no fixed order, so it differs between runs in the
    // last bits: torch.use_deterministic_algorithms(True) makes this an error, as for torch's own
    // atomic-scatter ops.
    at::globalContext().alertNotDeterministic("ops_dcnv3::dcnv3_backward on CUDA");
    AT_DISPATCH_FLOATING_TYPES_AND2(
        at::kBFloat16, at::kHalf, input.scalar_type(), "dcnv3_backward_cuda", [&] {
          using acc_t = at::opmath_type<scalar_t>;
          launch(backward_kernel<scalar_t, acc_t>, num_blocks(total), kThreads,
                 input.const_data_ptr<scalar_t>(), offset.const_data_ptr<scalar_t>(),
                 mask.const_data_ptr<scalar_t>(), grad_output.const_data_ptr<scalar_t>(),
                 grad_input.mutable_data_ptr<acc_t>(), grad_offset.mutable_data_ptr<scalar_t>(),
                 grad_mask.mutable_data_ptr<scalar_t>(), g, total);
        });
  }
  return {grad_input.to(input.scalar_type()), grad_offset, grad_mask};
}

}  // namespace dcnv3
