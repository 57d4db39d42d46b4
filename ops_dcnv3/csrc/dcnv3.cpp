// Registers DCNv3 and DCNv4 with the PyTorch dispatcher: one schema each, a kernel per device
// (the two ops share their kernels, docs/operator.md, "DCNv4"). Autograd and the
// fake (meta) implementation are registered once, in Python (ops_dcnv3/functional.py); see
// docs/operator.md, "Registration".
#include "dcnv3.h"

#include <c10/util/safe_numerics.h>
#include <torch/library.h>

#include <cstring>
#include <limits>
#include <utility>

namespace dcnv3 {
namespace {

// The bounds of ops_dcnv3/geometry.py (MAX_INTEGER, MAX_DIMENSION), checked in the same order
// and with the same messages: the geometry's values before any product of them can wrap around.
constexpr int64_t kMaxInteger = std::numeric_limits<int32_t>::max();

void check_integer(const char* op, const char* name, int64_t value) {
  const bool pad = std::strncmp(name, "pad", 3) == 0;
  TORCH_CHECK(!pad || value >= 0, op, ": ", name, " (padding) must be non-negative, got ", value);
  TORCH_CHECK(pad || value >= 1, op, ": ", name, " must be positive, got ", value);
  TORCH_CHECK(value <= kMaxInteger, op, ": ", name, " is out of range, got ", value,
              " (at most 2**31-1)");
}

// An undefined tensor is what a None argument of the schema's Tensor type arrives as.
void check_defined(const char* op, const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.defined(), op, ": ", name, " must be a torch.Tensor, got None");
}

// A tensor that goes with the input: on its device, of its dtype.
void check_like_input(const char* op, const at::Tensor& t, const char* name,
                      const at::Tensor& input) {
  TORCH_CHECK(t.device() == input.device(), op, ": ", name, " is on ", t.device(),
              " but input is on ", input.device());
  TORCH_CHECK(t.scalar_type() == input.scalar_type(), op, ": ", name, " has dtype ",
              t.scalar_type(), " but input has dtype ", input.scalar_type());
}

void check_same_layout(const char* op, const at::Tensor& t, const char* name,
                       const at::Tensor& input, std::initializer_list<int64_t> expected) {
  check_like_input(op, t, name, input);
  TORCH_CHECK(t.sizes().equals(expected), op, ": ", name, " must have shape ",
              c10::IntArrayRef(expected), " (N, H_out, W_out, channels), got ", t.sizes());
}

// As Python's floor division (geometry.py): C++ truncates a negative span towards zero, which
// gave an input smaller than the kernel an output of 1 instead of "too small".
int64_t output_length(int64_t size, int64_t kernel, int64_t stride, int64_t pad,
                      int64_t dilation) {
  const int64_t span = size + 2 * pad - (dilation * (kernel - 1) + 1);
  return span < 0 ? 0 : span / stride + 1;
}

// group * points * per_point, the entries a pixel's offsets (and mask values) take, refused
// above `bound` (text: how Python's geometry.py writes it), before anything multiplies it.
int64_t point_entries(const char* op, int64_t group, int64_t points, int64_t per_point,
                      const char* what, int64_t bound, const char* bound_text) {
  int64_t per_group = 0, entries = 0;
  TORCH_CHECK(!c10::mul_overflows(points, per_point, &per_group) &&
                  !c10::mul_overflows(group, per_group, &entries) && entries <= bound, op,
              ": group*points*", per_point, " (", what, ") is out of range, got ", group, "*",
              points, "*", per_point, " (at most ", bound_text, ")");
  return entries;
}

// The geometry's own values, checked; the tensors' sizes are filled in by check_input.
Geometry value_geometry(const char* op, int64_t kernel_h, int64_t kernel_w, int64_t stride_h,
                        int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t dilation_h,
                        int64_t dilation_w, int64_t group, int64_t group_channels,
                        double offset_scale, int64_t im2col_step, bool remove_center) {
  const std::pair<const char*, int64_t> integers[] = {
      {"kernel_h", kernel_h},     {"kernel_w", kernel_w},     {"stride_h", stride_h},
      {"stride_w", stride_w},     {"pad_h", pad_h},           {"pad_w", pad_w},
      {"dilation_h", dilation_h}, {"dilation_w", dilation_w}, {"group", group},
      {"group_channels", group_channels}, {"im2col_step", im2col_step}};
  for (const auto& [name, value] : integers) check_integer(op, name, value);
  TORCH_CHECK(!remove_center || (kernel_h == kernel_w && kernel_h % 2 == 1), op,
              ": remove_center needs a square kernel of odd size, got ", kernel_h, "x", kernel_w);
  Geometry g;
  g.kernel_h = kernel_h;
  g.kernel_w = kernel_w;
  g.stride_h = stride_h;
  g.stride_w = stride_w;
  g.pad_h = pad_h;
  g.pad_w = pad_w;
  g.dilation_h = dilation_h;
  g.dilation_w = dilation_w;
  g.group = group;
  g.group_channels = group_channels;
  g.offset_scale = offset_scale;
  g.remove_center = remove_center;
  // With every value below 2**31, kernel_h*kernel_w cannot wrap around.
  g.points = kernel_h * kernel_w - (remove_center ? 1 : 0);
  return g;
}

void check_input(const char* op, const at::Tensor& input, Geometry& g) {
  TORCH_CHECK(input.dim() == 4, op, ": input must be 4-D channels-last (N, H, W, C), got ",
              input.dim(), "-D");
  const auto dtype = input.scalar_type();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16 ||
                  dtype == at::kHalf,
              op, ": unsupported dtype ", dtype, " (float32, float64, bfloat16, float16)");
  TORCH_CHECK(input.size(3) == g.group * g.group_channels, op, ": input has ", input.size(3),
              " channels in its last dimension, expected group*group_channels = ", g.group, "*",
              g.group_channels, " = ", g.group * g.group_channels);
  g.batch = input.size(0);
  g.height_in = input.size(1);
  g.width_in = input.size(2);
  // As torch's convolutions: only the batch may be empty (an empty image would give an output of
  // padding alone, which the reference cannot sample either).
  TORCH_CHECK(g.height_in > 0 && g.width_in > 0, op, ": input of shape ", input.sizes(),
              " has an empty spatial dimension (H and W must be positive; only the batch N may "
              "be 0)");
  g.height_out = output_length(g.height_in, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h);
  g.width_out = output_length(g.width_in, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
  TORCH_CHECK(g.height_out > 0 && g.width_out > 0, op, ": input of size ", g.height_in, "x",
              g.width_in, " is too small for the kernel, padding and dilation (output ",
              g.height_out, "x", g.width_out, ")");
}

#define DCNV3_PARAMS                                                                        \
  int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,    \
      int64_t pad_w, int64_t dilation_h, int64_t dilation_w, int64_t group,                 \
      int64_t group_channels, double offset_scale, int64_t im2col_step, bool remove_center
#define DCNV3_ARGS                                                                            \
  kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, group,        \
      group_channels, offset_scale, im2col_step, remove_center

// How many entries a pixel's point tensor holds per point and group, and their bound (the
// numbers and texts of geometry.py's POINT_ENTRIES).
struct PointEntries {
  int64_t per_point;
  const char* what;
  int64_t bound;
  const char* bound_text;
};

// The checks DCNv3 and DCNv4 share, in the order of ops_dcnv3/geometry.py and _checks.py: the
// geometry's values, the entries of a pixel's points (returned in `entries`), that no tensor is
// None, then the input. The caller checks the point tensors' shapes and sets the layout.
Geometry checked_geometry(const char* op, const at::Tensor& input,
                          std::initializer_list<std::pair<const char*, const at::Tensor*>> points,
                          const PointEntries& spec, int64_t& entries, DCNV3_PARAMS) {
  Geometry g = value_geometry(op, DCNV3_ARGS);
  entries = point_entries(op, group, g.points, spec.per_point, spec.what, spec.bound,
                          spec.bound_text);
  check_defined(op, input, "input");
  for (const auto& [name, tensor] : points) check_defined(op, *tensor, name);
  check_input(op, input, g);
  return g;
}

}  // namespace

Geometry make_geometry(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                       int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                       int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                       int64_t group, int64_t group_channels, double offset_scale,
                       int64_t im2col_step, bool remove_center) {
  const char* op = "dcnv3";
  int64_t offset_channels = 0;
  Geometry g = checked_geometry(
      op, input, {{"offset", &offset}, {"mask", &mask}},
      {2, "the last dimension of offset", std::numeric_limits<int64_t>::max(), "2**63-1"},
      offset_channels, DCNV3_ARGS);
  check_same_layout(op, offset, "offset", input,
                    {g.batch, g.height_out, g.width_out, offset_channels});
  check_same_layout(op, mask, "mask", input,
                    {g.batch, g.height_out, g.width_out, group * g.points});
  const int64_t P = g.points;
  g.layout = {0, group * P * 2, P * 2, 0, group * P, P, offset.numel(), mask.numel(), false};
  return g;
}

// The published module pads the last dimension of offset_mask to a multiple of 8.
static int64_t padded_point_entries(int64_t entries) { return (entries + 7) / 8 * 8; }

Geometry make_geometry_v4(const at::Tensor& input, const at::Tensor& offset_mask,
                          int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                          int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                          int64_t group, int64_t group_channels, double offset_scale,
                          int64_t im2col_step, bool remove_center) {
  const char* op = "dcnv4";
  int64_t entries = 0;
  // (the bound leaves room for the round-up to a multiple of 8)
  Geometry g = checked_geometry(
      op, input, {{"offset_mask", &offset_mask}},
      {3, "the offsets and mask values", std::numeric_limits<int64_t>::max() - 7, "2**63-8"},
      entries, DCNV3_ARGS);
  check_like_input(op, offset_mask, "offset_mask", input);
  const int64_t last = offset_mask.dim() == 4 ? offset_mask.size(3) : -1;
  TORCH_CHECK(offset_mask.dim() == 4 && offset_mask.size(0) == g.batch &&
                  offset_mask.size(1) == g.height_out && offset_mask.size(2) == g.width_out &&
                  (last == entries || last == padded_point_entries(entries)),
              op, ": offset_mask must have shape (", g.batch, ", ", g.height_out, ", ",
              g.width_out, ", D) (N, H_out, W_out, D) with D = group*points*3 = ", entries,
              " or its round-up to a multiple of 8, ", padded_point_entries(entries), ", got ",
              offset_mask.sizes());
  const int64_t P = g.points, entries_total = offset_mask.numel();
  g.layout = {0, last, P * 3, P * 2, last, P * 3, entries_total, entries_total, true};
  return g;
}

namespace {

void check_grad_output(const char* op, const at::Tensor& grad_output, const at::Tensor& input,
                       const Geometry& g) {
  check_defined(op, grad_output, "grad_output");
  check_same_layout(op, grad_output, "grad_output", input,
                    {g.batch, g.height_out, g.width_out, g.channels()});
}

using Forward = at::Tensor (*)(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                               const Geometry&);
using Backward = std::tuple<at::Tensor, at::Tensor, at::Tensor> (*)(
    const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const Geometry&);

template <Forward kernel>
at::Tensor forward(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                   DCNV3_PARAMS) {
  const Geometry g = make_geometry(input, offset, mask, DCNV3_ARGS);
  return kernel(input.contiguous(), offset.contiguous(), mask.contiguous(), g);
}

template <Backward kernel>
std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(const at::Tensor& input,
                                                        const at::Tensor& offset,
                                                        const at::Tensor& mask,
                                                        const at::Tensor& grad_output,
                                                        DCNV3_PARAMS) {
  const Geometry g = make_geometry(input, offset, mask, DCNV3_ARGS);
  check_grad_output("dcnv3", grad_output, input, g);
  return kernel(input.contiguous(), offset.contiguous(), mask.contiguous(),
                grad_output.contiguous(), g);
}

// DCNv4 runs the same kernels: offset_mask holds both the offsets and the mask values, which its
// layout locates (make_geometry_v4), and its gradient is one tensor of the same shape.
template <Forward kernel>
at::Tensor forward_v4(const at::Tensor& input, const at::Tensor& offset_mask, DCNV3_PARAMS) {
  const Geometry g = make_geometry_v4(input, offset_mask, DCNV3_ARGS);
  const at::Tensor points = offset_mask.contiguous();
  return kernel(input.contiguous(), points, points, g);
}

template <Backward kernel>
std::tuple<at::Tensor, at::Tensor> backward_v4(const at::Tensor& input,
                                               const at::Tensor& offset_mask,
                                               const at::Tensor& grad_output, DCNV3_PARAMS) {
  const Geometry g = make_geometry_v4(input, offset_mask, DCNV3_ARGS);
  check_grad_output("dcnv4", grad_output, input, g);
  const at::Tensor points = offset_mask.contiguous();
  // The kernel's second and third gradients are one tensor here (g.layout.shared).
  auto grads = kernel(input.contiguous(), points, points, grad_output.contiguous(), g);
  return {std::get<0>(grads), std::get<1>(grads)};
}

}  // namespace

// The library's name: ops_dcnv3, or another one for the test-only host build of the CUDA
// kernels (tests/cuda_host.py), which compiles this file again with DCNV3_HOST_CUDA so that its
// CPU key runs the CUDA kernels walked on the host, through the same checks and schema.
#ifndef DCNV3_LIBRARY
#define DCNV3_LIBRARY ops_dcnv3
#endif
#define DCNV3_TORCH_LIBRARY(ns, m) TORCH_LIBRARY(ns, m)  // expands DCNV3_LIBRARY first

// The geometry arguments follow the published flat order (docs/operator.md, "Arguments"), which
// ops_dcnv3/geometry.py defines once for the Python side (FLAT_ARGS).
DCNV3_TORCH_LIBRARY(DCNV3_LIBRARY, m) {
  m.def(
      "dcnv3(Tensor input, Tensor offset, Tensor mask, int kernel_h, int kernel_w, int stride_h, "
      "int stride_w, int pad_h, int pad_w, int dilation_h, int dilation_w, int group, "
      "int group_channels, float offset_scale, int im2col_step, bool remove_center) -> Tensor");
  m.def(
      "dcnv3_backward(Tensor input, Tensor offset, Tensor mask, Tensor grad_output, int kernel_h, "
      "int kernel_w, int stride_h, int stride_w, int pad_h, int pad_w, int dilation_h, "
      "int dilation_w, int group, int group_channels, float offset_scale, int im2col_step, "
      "bool remove_center) -> (Tensor, Tensor, Tensor)");
  m.def(
      "dcnv4(Tensor input, Tensor offset_mask, int kernel_h, int kernel_w, int stride_h, "
      "int stride_w, int pad_h, int pad_w, int dilation_h, int dilation_w, int group, "
      "int group_channels, float offset_scale, int im2col_step, bool remove_center) -> Tensor");
  m.def(
      "dcnv4_backward(Tensor input, Tensor offset_mask, Tensor grad_output, int kernel_h, "
      "int kernel_w, int stride_h, int stride_w, int pad_h, int pad_w, int dilation_h, "
      "int dilation_w, int group, int group_channels, float offset_scale, int im2col_step, "
      "bool remove_center) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(DCNV3_LIBRARY, CPU, m) {
#ifdef DCNV3_HOST_CUDA
  m.impl("dcnv3", &forward<forward_cuda>);
  m.impl("dcnv3_backward", &backward<backward_cuda>);
  m.impl("dcnv4", &forward_v4<forward_cuda>);
  m.impl("dcnv4_backward", &backward_v4<backward_cuda>);
#else
  m.impl("dcnv3", &forward<forward_cpu>);
  m.impl("dcnv3_backward", &backward<backward_cpu>);
  m.impl("dcnv4", &forward_v4<forward_cpu>);
  m.impl("dcnv4_backward", &backward_v4<backward_cpu>);
#endif
}

#ifdef DCNV3_WITH_CUDA
TORCH_LIBRARY_IMPL(ops_dcnv3, CUDA, m) {
  m.impl("dcnv3", &forward<forward_cuda>);
  m.impl("dcnv3_backward", &backward<backward_cuda>);
  m.impl("dcnv4", &forward_v4<forward_cuda>);
  m.impl("dcnv4_backward", &backward_v4<backward_cuda>);
}
#endif

}  // namespace dcnv3
