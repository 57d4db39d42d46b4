// DCNv3 CPU kernels. Channels-last makes the group_channels values of a sampled pixel contiguous,
// so every inner loop runs over them (auto-vectorised) while the sampling geometry is computed
// once per (pixel, group, point), in the forward for 16 points at a time in SIMD lanes where
// AVX-512 allows (sample_lanes.h). Parallel over output rows (forward) and over (image, group)
// slices (backward: each slice owns its part of grad_input, so no atomics are needed).
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

#include "../dcnv3.h"
#if defined(__AVX512F__)
#include "sample_lanes.h"
#endif

namespace dcnv3 {
namespace {

// The kernel-grid terms of every point, computed once per call so the hot loops run over
// points without index arithmetic or the centre branch.
template <typename acc_t>
struct PointTable {
  std::vector<acc_t> x, y;

  explicit PointTable(const Geometry& g) : x(g.points), y(g.points) {
    const PointGrid<acc_t> grid(g, 0, 0);
    for (int64_t p = 0; p < g.points; ++p) {
      int64_t i, j;
      point_position(g, p, i, j);
      x[p] = grid.term_w(g, i);
      y[p] = grid.term_h(g, j);
    }
  }
};

// Calls fn with the group channel count as a compile-time constant for the counts InternImage
// uses (16 for T..XL, 32 for H and G), 0 (run-time count) otherwise. A constant count lets the
// compiler unroll the channel loops and keep a pixel's accumulators in registers.
template <typename Fn>
inline void dispatch_group_channels(int64_t gc, Fn&& fn) {
  switch (gc) {
    case 16: fn(std::integral_constant<int64_t, 16>{}); break;
    case 32: fn(std::integral_constant<int64_t, 32>{}); break;
    default: fn(std::integral_constant<int64_t, 0>{});
  }
}

// Per-thread accumulators of one (pixel, group): a fixed array when the count is known.
template <typename acc_t, int64_t GC>
struct Accumulator {
  acc_t values[GC];
  explicit Accumulator(int64_t) {}
  acc_t* data() { return values; }
};
template <typename acc_t>
struct Accumulator<acc_t, 0> {
  std::vector<acc_t> values;
  explicit Accumulator(int64_t n) : values(n) {}
  acc_t* data() { return values.data(); }
};

// The four corners of a sample in an NHWC image (or its gradient). Corners outside the image
// point at a per-thread stand-in buffer instead: zeros to read (zero padding), or a discarded
// buffer to scatter into. Every sample then runs the same branch-free channel loop wherever it
// lies; the weights stay as they are, since the stand-ins make their contribution vanish.
template <typename T, typename acc_t>
struct Corners {
  T *p00, *p01, *p10, *p11;

  Corners(T* image, const Bilinear<acc_t>& b, int64_t width, int64_t channels, T* outside) {
    T* base = image + (b.h_low * width + b.w_low) * channels;
    p00 = b.v00 ? base : outside;
    p01 = b.v01 ? base + channels : outside;
    p10 = b.v10 ? base + width * channels : outside;
    p11 = b.v11 ? base + (width + 1) * channels : outside;
  }
  Corners(T* image, const Bilinear<acc_t>& b, int64_t width, int64_t channels, T* outside,
          bool touches_image)
      : Corners(image, b, width, channels, outside) {
    if (!touches_image) p00 = p01 = p10 = p11 = outside;
  }
};

// acc[c] += sum of weight * corner[c] over the four corners of one sample.
template <typename scalar_t, typename acc_t>
inline void accumulate_corners(const scalar_t* x00, const scalar_t* x01, const scalar_t* x10,
                               const scalar_t* x11, acc_t w00, acc_t w01, acc_t w10, acc_t w11,
                               int64_t gc, acc_t* acc) {
#pragma omp simd
  for (int64_t c = 0; c < gc; ++c) {
    acc[c] += w00 * static_cast<acc_t>(x00[c]) + w01 * static_cast<acc_t>(x01[c]) +
              w10 * static_cast<acc_t>(x10[c]) + w11 * static_cast<acc_t>(x11[c]);
  }
}

// What the samples of one (pixel, group) read: its offsets and mask values (and how many
// entries their tensors hold from each on), its kernel grid, and the group's first channel of
// pixel (0, 0) of its image.
template <typename scalar_t, typename acc_t>
struct PixelGroup {
  const scalar_t *offset, *mask, *image;
  int64_t offset_left, mask_left;
  PointGrid<acc_t> grid;

  // Whether kLanes points' worth of offsets and mask values from point `first` on lie inside
  // their tensors (the lanes past the group's last point then read its neighbours, unused).
  bool holds_lanes(int64_t first, int64_t lanes) const {
    return 2 * (first + lanes) <= offset_left && first + lanes <= mask_left;
  }
};

#if defined(__AVX512F__)
// With AVX-512 the geometry of 16 points at a time runs in vector lanes (sample_lanes.h): 1.3-2x
// faster than the scalar geometry below. Without it (AVX2's 16 registers) the lanes spill and
// an 8-lane form was measured 1.3x slower than the scalar code, which is used there instead.

// The kernel-grid terms of the points in chunks of kLanes lanes, and which lanes hold points.
template <typename acc_t>
struct ForwardPoints {
  using Value = typename LaneTypes<acc_t>::Value;
  using Mask = typename LaneTypes<acc_t>::Mask;
  std::vector<Value> x, y;
  std::vector<Mask> used;
  std::vector<int64_t> count;

  explicit ForwardPoints(const Geometry& g) {
    const PointTable<acc_t> table(g);
    for (int64_t first = 0; first < g.points; first += kLanes) {
      alignas(64) acc_t xs[kLanes] = {}, ys[kLanes] = {};
      alignas(64) acc_t real[kLanes] = {};
      const int64_t n = std::min<int64_t>(kLanes, g.points - first);
      for (int64_t l = 0; l < n; ++l) {
        xs[l] = table.x[first + l];
        ys[l] = table.y[first + l];
        real[l] = 1;
      }
      x.push_back(load_lanes<Value>(xs));
      y.push_back(load_lanes<Value>(ys));
      used.push_back(load_lanes<Value>(real) > acc_t(0));
      count.push_back(n);
    }
  }
};

// The x and y offsets and the mask values of up to kLanes points as acc_t lanes. float tensors
// are read straight into the lanes when a full kLanes points' worth stays inside the tensors
// (the lanes past the last point are then ignored); other dtypes and the tensors' last points
// go through a zero-filled copy.
template <typename scalar_t, typename acc_t>
struct PointInputs {
  using Value = typename LaneTypes<acc_t>::Value;
  Value x, y, m;

  PointInputs(const scalar_t* off, const scalar_t* msk, int64_t count, bool full_read_inside) {
    if constexpr (std::is_same_v<scalar_t, acc_t>) {
      if (full_read_inside) {
        deinterleave(load_lanes<Value>(off), load_lanes<Value>(off + kLanes), x, y);
        m = load_lanes<Value>(msk);
        return;
      }
    }
    alignas(64) acc_t pairs[2 * kLanes] = {}, masks[kLanes] = {};
    for (int64_t i = 0; i < 2 * count; ++i) pairs[i] = static_cast<acc_t>(off[i]);
    for (int64_t i = 0; i < count; ++i) masks[i] = static_cast<acc_t>(msk[i]);
    deinterleave(load_lanes<Value>(pairs), load_lanes<Value>(pairs + kLanes), x, y);
    m = load_lanes<Value>(masks);
  }
};

// Adds the samples of one (pixel, group) to acc; true when a location was NaN or a mask value
// not finite (acc is then to be recomputed by exact_samples).
template <typename scalar_t, typename acc_t>
bool accumulate_samples(const ForwardPoints<acc_t>& points, const PixelGroup<scalar_t, acc_t>& px,
                        const scalar_t* zeros, const Geometry& g, int64_t gc, acc_t* acc) {
  using Value = typename LaneTypes<acc_t>::Value;
  using Grid = PointGrid<acc_t>;
  const acc_t scale = static_cast<acc_t>(g.offset_scale);
  const int64_t pixel_bytes = g.channels() * static_cast<int64_t>(sizeof(scalar_t));
  bool special = false;
  for (size_t chunk = 0; chunk < points.count.size(); ++chunk) {
    const int64_t first = static_cast<int64_t>(chunk) * kLanes, count = points.count[chunk];
    const PointInputs<scalar_t, acc_t> in(px.offset + 2 * first, px.mask + first, count,
                                          px.holds_lanes(first, kLanes));
    const Value h = Grid::locate(px.grid.origin_h, points.y[chunk], in.y, scale);
    const Value w = Grid::locate(px.grid.origin_w, points.x[chunk], in.x, scale);
    const SampleLanes<acc_t> s(h, w, in.m, points.used[chunk], px.image, zeros, g.height_in,
                               g.width_in, pixel_bytes);
    special |= s.any_special();
#pragma GCC unroll 16
    for (int l = 0; l < kLanes; ++l) {
      if (l == count) break;
      accumulate_corners(reinterpret_cast<const scalar_t*>(s.a00[l]),
                         reinterpret_cast<const scalar_t*>(s.a01[l]),
                         reinterpret_cast<const scalar_t*>(s.a10[l]),
                         reinterpret_cast<const scalar_t*>(s.a11[l]), s.w00[l], s.w01[l],
                         s.w10[l], s.w11[l], gc, acc);
    }
  }
  return special;
}
#else
template <typename acc_t>
using ForwardPoints = PointTable<acc_t>;

// Adds the samples of one (pixel, group) to acc; true when a location was NaN or a mask value
// not finite (acc is then to be recomputed by exact_samples).
template <typename scalar_t, typename acc_t>
bool accumulate_samples(const ForwardPoints<acc_t>& points, const PixelGroup<scalar_t, acc_t>& px,
                        const scalar_t* zeros, const Geometry& g, int64_t gc, acc_t* acc) {
  using Grid = PointGrid<acc_t>;
  const acc_t scale = static_cast<acc_t>(g.offset_scale);
  bool special = false;
  for (int64_t p = 0; p < g.points; ++p) {
    const acc_t h = Grid::locate(px.grid.origin_h, points.y[p], px.offset[2 * p + 1], scale);
    const acc_t w = Grid::locate(px.grid.origin_w, points.x[p], px.offset[2 * p], scale);
    // A location outside the image reads four zeros through the same loop (at a stand-in
    // location that keeps the weights finite) instead of a hard-to-predict branch.
    const bool in = inside(h, w, g.height_in, g.width_in);
    const Bilinear<acc_t> b(in ? h : acc_t(0), in ? w : acc_t(0), g.height_in, g.width_in);
    const Corners<const scalar_t, acc_t> x(px.image, b, g.width_in, g.channels(), zeros, in);
    const acc_t m = static_cast<acc_t>(px.mask[p]);
    special |= nan_location(h, w) || !std::isfinite(m);
    accumulate_corners(x.p00, x.p01, x.p10, x.p11, m * b.w00(), m * b.w01(), m * b.w10(),
                       m * b.w11(), gc, acc);
  }
  return special;
}
#endif

// The samples of one (pixel, group) in the reference's order: each sample on its own (zero
// outside the image, NaN at a NaN location), then times its mask value. Only for the rare pixel
// groups accumulate_samples flags: folding the mask into the bilinear weights, as its fast loops
// do, would turn an infinite mask's inf into NaN (inf * 0 at a corner outside the image).
template <typename scalar_t, typename acc_t>
void exact_samples(const PixelGroup<scalar_t, acc_t>& px, const scalar_t* zeros,
                   const Geometry& g, int64_t gc, acc_t* acc) {
  std::fill(acc, acc + gc, acc_t(0));
  for (int64_t p = 0; p < g.points; ++p) {
    int64_t i, j;
    point_position(g, p, i, j);
    const acc_t h = px.grid.loc_h(g, j, static_cast<acc_t>(px.offset[2 * p + 1]));
    const acc_t w = px.grid.loc_w(g, i, static_cast<acc_t>(px.offset[2 * p]));
    if (nan_location(h, w)) {
      std::fill(acc, acc + gc, std::numeric_limits<acc_t>::quiet_NaN());
      return;
    }
    const acc_t m = static_cast<acc_t>(px.mask[p]);
    const bool in = inside(h, w, g.height_in, g.width_in);
    const Bilinear<acc_t> b(in ? h : acc_t(0), in ? w : acc_t(0), g.height_in, g.width_in);
    const Corners<const scalar_t, acc_t> x(px.image, b, g.width_in, g.channels(), zeros, in);
    for (int64_t c = 0; c < gc; ++c) {
      const acc_t value = b.w00() * static_cast<acc_t>(x.p00[c]) +
                          b.w01() * static_cast<acc_t>(x.p01[c]) +
                          b.w10() * static_cast<acc_t>(x.p10[c]) +
                          b.w11() * static_cast<acc_t>(x.p11[c]);
      acc[c] += m * value;
    }
  }
}

template <typename scalar_t, int64_t GC>
void forward_kernel(const scalar_t* input, const scalar_t* offset, const scalar_t* mask,
                    scalar_t* output, const Geometry& g) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t C = g.channels(), gc = GC > 0 ? GC : g.group_channels;
  const int64_t image_size = g.height_in * g.width_in * C;
  const PointLayout& layout = g.layout;
  const ForwardPoints<acc_t> points(g);
  at::parallel_for(0, g.batch * g.height_out, 1, [&](int64_t begin, int64_t end) {
    Accumulator<acc_t, GC> accumulator(gc);
    acc_t* acc = accumulator.data();
    const std::vector<scalar_t> zeros(gc, scalar_t(0));
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / g.height_out, h_out = row % g.height_out;
      const scalar_t* image = input + n * image_size;
      // Group-major within a row: consecutive pixels of one group sample neighbouring memory,
      // which keeps the working set in L1 even when G is large (G=32 at C=512 otherwise
      // touches over a thousand cache lines per pixel).
      for (int64_t grp = 0; grp < g.group; ++grp) {
        for (int64_t w_out = 0; w_out < g.width_out; ++w_out) {
          const int64_t pixel = row * g.width_out + w_out;
          const int64_t at_offset = layout.offset_index(pixel, grp);
          const int64_t at_mask = layout.mask_index(pixel, grp);
          const PixelGroup<scalar_t, acc_t> px{offset + at_offset, mask + at_mask,
                                               image + grp * gc,
                                               layout.offset_entries - at_offset,
                                               layout.mask_entries - at_mask,
                                               PointGrid<acc_t>(g, h_out, w_out)};
          std::fill(acc, acc + gc, acc_t(0));
          if (accumulate_samples(points, px, zeros.data(), g, gc, acc)) {
            exact_samples(px, zeros.data(), g, gc, acc);
          }
          scalar_t* out = output + pixel * C + grp * gc;
          for (int64_t c = 0; c < gc; ++c) out[c] = static_cast<scalar_t>(acc[c]);
        }
      }
    }
  });
}

// One (image, group) slice of the backward pass. grad_input is written in acc_t (float for
// half/bfloat16) so that the many small contributions to one pixel do not lose precision.
template <typename scalar_t, typename acc_t, int64_t GC>
void backward_slice(const scalar_t* image, const scalar_t* offset, const scalar_t* mask,
                    const scalar_t* grad_output, acc_t* grad_image, scalar_t* grad_offset,
                    scalar_t* grad_mask, const Geometry& g, const PointTable<acc_t>& points,
                    int64_t n, int64_t grp, const scalar_t* zeros, acc_t* discard) {
  using Grid = PointGrid<acc_t>;
  const int64_t C = g.channels(), gc = GC > 0 ? GC : g.group_channels, P = g.points;
  const acc_t scale = static_cast<acc_t>(g.offset_scale);
  for (int64_t h_out = 0; h_out < g.height_out; ++h_out) {
    for (int64_t w_out = 0; w_out < g.width_out; ++w_out) {
      const int64_t pixel = (n * g.height_out + h_out) * g.width_out + w_out;
      const Grid grid(g, h_out, w_out);
      const int64_t at_offset = g.layout.offset_index(pixel, grp);
      const int64_t at_mask = g.layout.mask_index(pixel, grp);
      const scalar_t* off = offset + at_offset;
      const scalar_t* msk = mask + at_mask;
      scalar_t* g_off = grad_offset + at_offset;
      scalar_t* g_msk = grad_mask + at_mask;
      const scalar_t* go = grad_output + pixel * C + grp * gc;
      for (int64_t p = 0; p < P; ++p) {
        const acc_t h = Grid::locate(grid.origin_h, points.y[p], off[2 * p + 1], scale);
        const acc_t w = Grid::locate(grid.origin_w, points.x[p], off[2 * p], scale);
        // At a NaN location the sample, hence the mask gradient, is NaN; nothing flows further.
        acc_t d_mask = nan_location(h, w) ? std::numeric_limits<acc_t>::quiet_NaN() : acc_t(0);
        acc_t d_h = 0, d_w = 0;
        if (inside(h, w, g.height_in, g.width_in)) {
          const Bilinear<acc_t> b(h, w, g.height_in, g.width_in);
          const acc_t m = static_cast<acc_t>(msk[p]);
          const acc_t w00 = b.w00(), w01 = b.w01(), w10 = b.w10(), w11 = b.w11();
          const Corners<const scalar_t, acc_t> x(image, b, g.width_in, C, zeros);
          const Corners<acc_t, acc_t> gx(grad_image, b, g.width_in, C, discard);
          // One vectorised pass: the three reductions and the four scatters. The offset
          // gradient sums mask*grad_output times the bilinear derivative per channel, as the
          // reference's grid_sample backward does, so a non-finite mask gives its inf/NaN.
#pragma omp simd reduction(+ : d_mask, d_w, d_h)
          for (int64_t c = 0; c < gc; ++c) {
            const acc_t gout = static_cast<acc_t>(go[c]);
            const acc_t a = static_cast<acc_t>(x.p00[c]), bb = static_cast<acc_t>(x.p01[c]);
            const acc_t cc = static_cast<acc_t>(x.p10[c]), d = static_cast<acc_t>(x.p11[c]);
            const acc_t mg = m * gout;
            d_mask += gout * (w00 * a + w01 * bb + w10 * cc + w11 * d);
            d_w += mg * (b.hh * (bb - a) + b.lh * (d - cc));
            d_h += mg * (b.hw * (cc - a) + b.lw * (d - bb));
            gx.p00[c] += w00 * mg;
            gx.p01[c] += w01 * mg;
            gx.p10[c] += w10 * mg;
            gx.p11[c] += w11 * mg;
          }
          d_w *= scale;
          d_h *= scale;
        }
        g_msk[p] = static_cast<scalar_t>(d_mask);
        g_off[2 * p] = static_cast<scalar_t>(d_w);
        g_off[2 * p + 1] = static_cast<scalar_t>(d_h);
      }
    }
  }
}

}  // namespace

at::Tensor forward_cpu(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                       const Geometry& g) {
  auto output = at::empty({g.batch, g.height_out, g.width_out, g.channels()}, input.options());
  if (output.numel() == 0) return output;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "dcnv3_cpu", [&] {
    dispatch_group_channels(g.group_channels, [&](auto gc) {
      forward_kernel<scalar_t, decltype(gc)::value>(
          input.const_data_ptr<scalar_t>(), offset.const_data_ptr<scalar_t>(),
          mask.const_data_ptr<scalar_t>(), output.mutable_data_ptr<scalar_t>(), g);
    });
  });
  return output;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> backward_cpu(const at::Tensor& input,
                                                            const at::Tensor& offset,
                                                            const at::Tensor& mask,
                                                            const at::Tensor& grad_output,
                                                            const Geometry& g) {
  const auto acc_type = at::toOpMathType(input.scalar_type());
  auto grad_input = at::zeros(input.sizes(), input.options().dtype(acc_type));
  // The kernel writes every offset and mask entry; one tensor holding both (DCNv4) may have
  // entries of neither (its padding), whose gradient is zero.
  auto grad_offset = g.layout.shared ? at::zeros_like(offset) : at::empty_like(offset);
  auto grad_mask = g.layout.shared ? grad_offset : at::empty_like(mask);
  if (input.numel() == 0 || grad_output.numel() == 0) {
    return {grad_input.to(input.scalar_type()), grad_offset.zero_(), grad_mask.zero_()};
  }
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kBFloat16, at::kHalf, input.scalar_type(), "dcnv3_backward_cpu", [&] {
        using acc_t = at::opmath_type<scalar_t>;
        const int64_t image_size = g.height_in * g.width_in * g.channels();
        const scalar_t* in = input.const_data_ptr<scalar_t>();
        acc_t* g_in = grad_input.mutable_data_ptr<acc_t>();
        const PointTable<acc_t> points(g);
        dispatch_group_channels(g.group_channels, [&](auto gc) {
          at::parallel_for(0, g.batch * g.group, 1, [&](int64_t begin, int64_t end) {
            const std::vector<scalar_t> zeros(g.group_channels, scalar_t(0));
            std::vector<acc_t> discard(g.group_channels);
            for (int64_t task = begin; task < end; ++task) {
              const int64_t n = task / g.group, grp = task % g.group;
              const int64_t slice = n * image_size + grp * g.group_channels;
              backward_slice<scalar_t, acc_t, decltype(gc)::value>(
                  in + slice, offset.const_data_ptr<scalar_t>(), mask.const_data_ptr<scalar_t>(),
                  grad_output.const_data_ptr<scalar_t>(), g_in + slice,
                  grad_offset.mutable_data_ptr<scalar_t>(),
                  grad_mask.mutable_data_ptr<scalar_t>(), g, points, n, grp, zeros.data(),
                  discard.data());
            }
          });
        });
      });
  return {grad_input.to(input.scalar_type()), grad_offset, grad_mask};
}

}  // namespace dcnv3
