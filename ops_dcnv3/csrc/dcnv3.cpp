// Registers DCNv3 with the PyTorch dispatcher: one schema, a kernel per device. Autograd and the
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

void check_integer(const char* name, int64_t value) {
  const bool pad = std::strncmp(name, "pad", 3) == 0;
  TORCH_CHECK(!pad || value >= 0, "dcnv3: ", name, " (padding) must be non-negative, got ", value);
  TORCH_CHECK(pad || value >= 1, "dcnv3: ", name, " must be positive, got ", value);
  TORCH_CHECK(value <= kMaxInteger, "dcnv3: ", name, " is out of range, got ", value,
              " (at most 2**31-1)");
}

// An undefined tensor is what a None argument of the schema's Tensor type arrives as.
void check_defined(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.defined(), "dcnv3: ", name, " must be a torch.Tensor, got None");
}

void check_same_layout(const at::Tensor& t, const char* name, const at::Tensor& input,
                       std::initializer_list<int64_t> expected) {
  TORCH_CHECK(t.device() == input.device(), "dcnv3: ", name, " is on ", t.device(),
              " but input is on ", input.device());
  TORCH_CHECK(t.scalar_type() == input.scalar_type(), "dcnv3: ", name, " has dtype ",
              t.scalar_type(), " but input has dtype ", input.scalar_type());
  TORCH_CHECK(t.sizes().equals(expected), "dcnv3: ", name, " must have shape ",
              c10::IntArrayRef(expected), " (N, H_out, W_out, channels), got ", t.sizes());
}

// As Python's floor division (geometry.py): C++ truncates a negative span towards zero, which
// gave an input smaller than the kernel an output of 1 instead of "too small".
int64_t output_length(int64_t size, int64_t kernel, int64_t stride, int64_t pad,
                      int64_t dilation) {
  const int64_t span = size + 2 * pad - (dilation * (kernel - 1) + 1);
  return span < 0 ? 0 : span / stride + 1;
}

}  // namespace

Geometry make_geometry(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                       int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
                       int64_t pad_h, int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                       int64_t group, int64_t group_channels, double offset_scale,
                       int64_t im2col_step, bool remove_center) {
  const std::pair<const char*, int64_t> integers[] = {
      {"kernel_h", kernel_h},     {"kernel_w", kernel_w},     {"stride_h", stride_h},
      {"stride_w", stride_w},     {"pad_h", pad_h},           {"pad_w", pad_w},
      {"dilation_h", dilation_h}, {"dilation_w", dilation_w}, {"group", group},
      {"group_channels", group_channels}, {"im2col_step", im2col_step}};
  for (const auto& [name, value] : integers) check_integer(name, value);
  TORCH_CHECK(!remove_center || (kernel_h == kernel_w && kernel_h % 2 == 1),
              "dcnv3: remove_center needs a square kernel of odd size, got ", kernel_h, "x",
              kernel_w);
  // With every value below 2**31, kernel_h*kernel_w*2 cannot wrap around; group times it can.
  const int64_t points = kernel_h * kernel_w - (remove_center ? 1 : 0);
  int64_t offset_channels = 0;
  TORCH_CHECK(!c10::mul_overflows(group, points * 2, &offset_channels),
              "dcnv3: group*points*2 (the last dimension of offset) is out of range, got ", group,
              "*", points, "*2 (at most 2**63-1)");
  check_defined(input, "input");
  check_defined(offset, "offset");
  check_defined(mask, "mask");
  TORCH_CHECK(input.dim() == 4, "dcnv3: input must be 4-D channels-last (N, H, W, C), got ",
              input.dim(), "-D");
  const auto dtype = input.scalar_type();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16 ||
                  dtype == at::kHalf,
              "dcnv3: unsupported dtype ", dtype, " (float32, float64, bfloat16, float16)");
  TORCH_CHECK(input.size(3) == group * group_channels, "dcnv3: input has ", input.size(3),
              " channels in its last dimension, expected group*group_channels = ", group, "*",
              group_channels, " = ", group * group_channels);

  Geometry g;
  g.batch = input.size(0);
  g.height_in = input.size(1);
  g.width_in = input.size(2);
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
  g.points = points;
  // As torch's convolutions: only the batch may be empty (an empty image would give an output of
  // padding alone, which the reference cannot sample either).
  TORCH_CHECK(g.height_in > 0 && g.width_in > 0, "dcnv3: input of shape ", input.sizes(),
              " has an empty spatial dimension (H and W must be positive; only the batch N may "
              "be 0)");
  g.height_out = output_length(g.height_in, kernel_h, stride_h, pad_h, dilation_h);
  g.width_out = output_length(g.width_in, kernel_w, stride_w, pad_w, dilation_w);
  TORCH_CHECK(g.height_out > 0 && g.width_out > 0, "dcnv3: input of size ", g.height_in, "x",
              g.width_in, " is too small for the kernel, padding and dilation (output ",
              g.height_out, "x", g.width_out, ")");
  check_same_layout(offset, "offset", input,
                    {g.batch, g.height_out, g.width_out, offset_channels});
  check_same_layout(mask, "mask", input, {g.batch, g.height_out, g.width_out, group * g.points});
  return g;
}

namespace {

#define DCNV3_PARAMS                                                                        \
  int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h,    \
      int64_t pad_w, int64_t dilation_h, int64_t dilation_w, int64_t group,                 \
      int64_t group_channels, double offset_scale, int64_t im2col_step, bool remove_center
#define DCNV3_ARGS                                                                            \
  kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, group,        \
      group_channels, offset_scale, im2col_step, remove_center

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
  check_defined(grad_output, "grad_output");
  check_same_layout(grad_output, "grad_output", input,
                    {g.batch, g.height_out, g.width_out, g.channels()});
  return kernel(input.contiguous(), offset.contiguous(), mask.contiguous(),
                grad_output.contiguous(), g);
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
}

TORCH_LIBRARY_IMPL(DCNV3_LIBRARY, CPU, m) {
#ifdef DCNV3_HOST_CUDA
  m.impl("dcnv3", &forward<forward_cuda>);
  m.impl("dcnv3_backward", &backward<backward_cuda>);
#else
  m.impl("dcnv3", &forward<forward_cpu>);
  m.impl("dcnv3_backward", &backward<backward_cpu>);
#endif
}

#ifdef DCNV3_WITH_CUDA
TORCH_LIBRARY_IMPL(ops_dcnv3, CUDA, m) {
  m.impl("dcnv3", &forward<forward_cuda>);
  m.impl("dcnv3_backward", &backward<backward_cuda>);
}
#endif

}  // namespace dcnv3
