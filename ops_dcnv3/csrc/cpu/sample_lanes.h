// The sampling geometry of up to 16 kernel points of one (pixel, group) at once, written with
// GCC/Clang vector extensions. Used by the CPU forward when built for AVX-512, whose 32
// registers of 16 floats hold the lanes (see dcnv3_cpu.cpp for the other machines).
// Same formulas as PointGrid::locate and Bilinear (dcnv3_geometry.h), lane-wise, so that the
// forward's per-sample scalar work shrinks to four loads and four multiply-adds per channel
// vector. The lanes must stay in registers: storing them and reloading single lanes stalls on
// store forwarding and was measured slower than the scalar code, hence the compile-time lane
// indices (the lane loops are fully unrolled).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace dcnv3 {

constexpr int kLanes = 16;

template <typename acc_t>
struct LaneTypes {
  typedef acc_t Value __attribute__((vector_size(kLanes * sizeof(acc_t))));
  using Mask = decltype(Value{} < Value{});  // all-ones lanes where true
};
typedef int64_t LaneAddresses __attribute__((vector_size(kLanes * sizeof(int64_t))));

template <typename V, typename T>
inline V load_lanes(const T* values) {
  static_assert(sizeof(V) == kLanes * sizeof(T));
  V lanes;
  std::memcpy(&lanes, values, sizeof lanes);
  return lanes;
}

// Lanes of a where mask is set, of b elsewhere (bitwise, so it compiles the same everywhere).
template <typename V, typename M>
inline V select(M mask, V a, V b) {
  static_assert(sizeof(V) == sizeof(M));
  M a_bits, b_bits;
  std::memcpy(&a_bits, &a, sizeof a);
  std::memcpy(&b_bits, &b, sizeof b);
  const M bits = (a_bits & mask) | (b_bits & ~mask);
  V out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

template <typename acc_t>
struct SampleLanes {
  using Value = typename LaneTypes<acc_t>::Value;
  using Mask = typename LaneTypes<acc_t>::Mask;
  using Index = std::remove_reference_t<decltype(Mask{}[0])>;

  // Corner addresses (the stand-in buffer for corners outside the image), bilinear weights
  // already multiplied by the mask, and the lanes whose location is NaN or whose mask value is
  // not finite (those the caller recomputes in the reference's order).
  LaneAddresses a00, a01, a10, a11;
  Value w00, w01, w10, w11;
  Mask special;

  // h, w: sampling locations; m: mask values; used: lanes that hold real points. image: the
  // group's first channel of pixel (0, 0); pixel_bytes: the distance between two pixels.
  SampleLanes(Value h, Value w, Value m, Mask used, const void* image, const void* outside,
              int64_t height, int64_t width, int64_t pixel_bytes) {
    // A location that cannot touch the image samples at a stand-in location with every corner
    // outside (zeros), which keeps the weights finite; NaN fails every comparison.
    const Mask in = (h > acc_t(-1)) & (w > acc_t(-1)) & (h < static_cast<acc_t>(height)) &
                    (w < static_cast<acc_t>(width)) & used;
    special = ((h != h) | (w != w) | ((m - m) != Value{})) & used;  // inf - inf is NaN
    h = select(in, h, Value{});
    w = select(in, w, Value{});
    // floor on (-1, size): truncate, then step down where truncation went up (true is -1).
    const Mask h_trunc = __builtin_convertvector(h, Mask);
    const Mask w_trunc = __builtin_convertvector(w, Mask);
    const Mask h_low = h_trunc + (__builtin_convertvector(h_trunc, Value) > h);
    const Mask w_low = w_trunc + (__builtin_convertvector(w_trunc, Value) > w);
    const Value lh = h - __builtin_convertvector(h_low, Value);
    const Value lw = w - __builtin_convertvector(w_low, Value);
    const Value hh = acc_t(1) - lh, hw = acc_t(1) - lw;
    w00 = m * (hh * hw);
    w01 = m * (hh * lw);
    w10 = m * (lh * hw);
    w11 = m * (lh * lw);
    const Mask top = (h_low >= Index(0)) & in;
    const Mask bottom = (h_low + Index(1) < static_cast<Index>(height)) & in;
    const Mask left = w_low >= Index(0);
    const Mask right = w_low + Index(1) < static_cast<Index>(width);
    const LaneAddresses base =
        reinterpret_cast<int64_t>(image) +
        (__builtin_convertvector(h_low, LaneAddresses) * width +
         __builtin_convertvector(w_low, LaneAddresses)) * pixel_bytes;
    const LaneAddresses stand_in = LaneAddresses{} + reinterpret_cast<int64_t>(outside);
    a00 = select(__builtin_convertvector(top & left, LaneAddresses), base, stand_in);
    a01 = select(__builtin_convertvector(top & right, LaneAddresses), base + pixel_bytes,
                 stand_in);
    a10 = select(__builtin_convertvector(bottom & left, LaneAddresses),
                 base + width * pixel_bytes, stand_in);
    a11 = select(__builtin_convertvector(bottom & right, LaneAddresses),
                 base + (width + 1) * pixel_bytes, stand_in);
  }

  bool any_special() const {
    const Mask none{};
    return std::memcmp(&special, &none, sizeof special) != 0;
  }
};

// The x (even) and y (odd) offsets of 16 points stored as [x, y] pairs.
template <typename V>
inline void deinterleave(V first, V second, V& x, V& y) {
  x = __builtin_shufflevector(first, second, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                              28, 30);
  y = __builtin_shufflevector(first, second, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                              29, 31);
}

}  // namespace dcnv3
