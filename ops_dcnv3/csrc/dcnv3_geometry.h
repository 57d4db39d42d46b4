// Sampling geometry of DCNv3 shared by the CPU and CUDA kernels, so both follow one definition
// of where each kernel point samples (docs/operator.md, "Semantics"). The Python side mirrors the
// call's hyper-parameters in ops_dcnv3/geometry.py.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__)
#define DCNV3_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define DCNV3_HOST_DEVICE inline
#endif

namespace dcnv3 {

// Where the offsets and mask values of one (output pixel, group) lie, in entries from the data
// of the tensors that hold them (docs/operator.md, "DCNv4"). DCNv3 has two tensors, offset
// (..., G*P*2) and mask (..., G*P); DCNv4 one, offset_mask (..., D), in which group g's P (x, y)
// pairs start at g*3P and its P mask values follow them. Within a group, point p's pair is at
// 2p and its mask value at p in either op, so the kernels serve both through this layout.
struct PointLayout {
  int64_t offset_start, offset_pixel, offset_group;
  int64_t mask_start, mask_pixel, mask_group;
  // The entries of the tensors that hold the offsets and the mask values (the same tensor for
  // DCNv4, whose gradient is then one tensor too): the bound of the CPU kernels' wide reads.
  int64_t offset_entries, mask_entries;
  bool shared;

  DCNV3_HOST_DEVICE int64_t offset_index(int64_t pixel, int64_t group) const {
    return offset_start + pixel * offset_pixel + group * offset_group;
  }
  DCNV3_HOST_DEVICE int64_t mask_index(int64_t pixel, int64_t group) const {
    return mask_start + pixel * mask_pixel + group * mask_group;
  }
};

// Shapes and hyper-parameters of one call, validated before any kernel runs.
struct Geometry {
  int64_t batch, height_in, width_in, height_out, width_out;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  int64_t group, group_channels, points;  // points = kernel_h*kernel_w (-1 with remove_center)
  double offset_scale;
  bool remove_center;
  PointLayout layout;

  DCNV3_HOST_DEVICE int64_t channels() const { return group * group_channels; }
  DCNV3_HOST_DEVICE int64_t center_index() const { return (kernel_h * kernel_w - 1) / 2; }
};

// Kernel point index p -> (i along W, j along H) in the published x-major order, skipping the
// centre when remove_center is set.
DCNV3_HOST_DEVICE void point_position(const Geometry& g, int64_t p, int64_t& i, int64_t& j) {
  const int64_t k = (g.remove_center && p >= g.center_index()) ? p + 1 : p;
  i = k / g.kernel_h;
  j = k % g.kernel_h;
}

// Unpadded input coordinates of kernel point (i along W, j along H) before the learned offset:
// the offset is added to the returned grid term, and both are scaled by offset_scale.
template <typename acc_t>
struct PointGrid {
  acc_t origin_h, origin_w;  // (dil*(k-1))//2 - pad + out*stride
  acc_t half_h, half_w;      // (dil*(k-1))//2

  DCNV3_HOST_DEVICE PointGrid(const Geometry& g, int64_t h_out, int64_t w_out) {
    const int64_t hh = (g.dilation_h * (g.kernel_h - 1)) / 2;
    const int64_t hw = (g.dilation_w * (g.kernel_w - 1)) / 2;
    half_h = static_cast<acc_t>(hh);
    half_w = static_cast<acc_t>(hw);
    origin_h = static_cast<acc_t>(hh - g.pad_h + h_out * g.stride_h);
    origin_w = static_cast<acc_t>(hw - g.pad_w + w_out * g.stride_w);
  }

  // origin + (grid term + learned offset) * offset_scale: the one formula of a location, for one
  // point (V = acc_t) or for lanes of points (the CPU forward's vector types).
  template <typename V = acc_t>
  static DCNV3_HOST_DEVICE V locate(acc_t origin, V grid_term, std::type_identity_t<V> off,
                                    acc_t scale) {
    return origin + (grid_term + off) * scale;
  }
  // Kernel-grid term of point (i, j) relative to the output pixel's centre.
  DCNV3_HOST_DEVICE acc_t term_h(const Geometry& g, int64_t j) const {
    return static_cast<acc_t>(j * g.dilation_h) - half_h;
  }
  DCNV3_HOST_DEVICE acc_t term_w(const Geometry& g, int64_t i) const {
    return static_cast<acc_t>(i * g.dilation_w) - half_w;
  }
  DCNV3_HOST_DEVICE acc_t loc_h(const Geometry& g, int64_t j, acc_t off_y) const {
    return locate(origin_h, term_h(g, j), off_y, static_cast<acc_t>(g.offset_scale));
  }
  DCNV3_HOST_DEVICE acc_t loc_w(const Geometry& g, int64_t i, acc_t off_x) const {
    return locate(origin_w, term_w(g, i), off_x, static_cast<acc_t>(g.offset_scale));
  }
};

// The four bilinear corners of a location that lies inside (-1, size) on both axes. Corners
// outside the image have valid=false and contribute zero (zero padding).
template <typename acc_t>
struct Bilinear {
  int64_t h_low, w_low;
  acc_t lh, lw, hh, hw;  // fractional parts and their complements
  bool v00, v01, v10, v11;

  DCNV3_HOST_DEVICE Bilinear(acc_t h, acc_t w, int64_t height, int64_t width) {
    const acc_t fh = std::floor(h);
    const acc_t fw = std::floor(w);
    h_low = static_cast<int64_t>(fh);
    w_low = static_cast<int64_t>(fw);
    lh = h - fh;
    lw = w - fw;
    hh = acc_t(1) - lh;
    hw = acc_t(1) - lw;
    const bool top = h_low >= 0, bottom = h_low + 1 <= height - 1;
    const bool left = w_low >= 0, right = w_low + 1 <= width - 1;
    v00 = top && left;
    v01 = top && right;
    v10 = bottom && left;
    v11 = bottom && right;
  }

  DCNV3_HOST_DEVICE acc_t w00() const { return hh * hw; }
  DCNV3_HOST_DEVICE acc_t w01() const { return hh * lw; }
  DCNV3_HOST_DEVICE acc_t w10() const { return lh * hw; }
  DCNV3_HOST_DEVICE acc_t w11() const { return lh * lw; }
  DCNV3_HOST_DEVICE bool all_valid() const { return v00 && v01 && v10 && v11; }
};

// True when the location can touch the image; false also for NaN (comparisons fail), which the
// kernels then treat separately so that NaN propagates instead of vanishing.
template <typename acc_t>
DCNV3_HOST_DEVICE bool inside(acc_t h, acc_t w, int64_t height, int64_t width) {
  return h > acc_t(-1) && w > acc_t(-1) && h < static_cast<acc_t>(height) &&
         w < static_cast<acc_t>(width);
}

// A NaN location samples NaN (the reference's rule): a NaN offset must not vanish silently.
template <typename acc_t>
DCNV3_HOST_DEVICE bool nan_location(acc_t h, acc_t w) {
  return std::isnan(h) || std::isnan(w);
}

}  // namespace dcnv3
