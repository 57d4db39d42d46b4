// The few CUDA names dcnv3_cuda_kernels.cuh uses, for compiling it as ordinary C++ (the test-only
// host build, tests/cuda_host.py): the keywords vanish, the block/thread indices are host
// variables, atomics are plain additions, and a launch walks the grid serially, block by block
// and thread by thread. This checks the kernels' indexing and math on the CPU; it cannot show
// races, launch-bound or memory-throughput problems, which only a GPU run does.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#if defined(__CUDACC__)
#error "host_shim.h is for the host build only; nvcc compiles the real kernels"
#endif

#define __global__
#define __device__
#define __forceinline__ inline
// __restrict__ is a GCC/Clang extension in C++ too.

namespace dcnv3 {
namespace host {

// CUDA's uint3/dim3: unsigned 32-bit fields, so index arithmetic overflows as it would on a GPU.
struct Index3 {
  unsigned int x = 0, y = 1, z = 1;
};

}  // namespace host
}  // namespace dcnv3

inline thread_local dcnv3::host::Index3 threadIdx, blockIdx, blockDim, gridDim;

// Serial, so the read-modify-write needs no atomicity; same signature as CUDA's.
template <typename T>
inline T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}

namespace dcnv3 {
namespace host {

// DCNV3_HOST_MAX_BLOCKS=n walks at most n blocks: grid-stride loops must give the same result on
// any grid, and a small one makes every thread take several steps of its loop.
inline int64_t grid_blocks(int64_t blocks) {
  const char* setting = std::getenv("DCNV3_HOST_MAX_BLOCKS");
  const int64_t limit = setting != nullptr ? std::atoll(setting) : 0;
  return limit > 0 ? std::min(blocks, limit) : blocks;
}

// The host form of kernel<<<blocks, threads>>>(args...).
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), int64_t blocks, int threads, Args&&... args) {
  gridDim.x = static_cast<unsigned int>(grid_blocks(blocks));
  blockDim.x = static_cast<unsigned int>(threads);
  for (blockIdx.x = 0; blockIdx.x < gridDim.x; ++blockIdx.x) {
    for (threadIdx.x = 0; threadIdx.x < blockDim.x; ++threadIdx.x) kernel(args...);
  }
}

// Stands in for c10::cuda::CUDAGuard: host tensors need no device switch.
struct DeviceGuard {
  template <typename Device>
  explicit DeviceGuard(const Device&) {}
};

}  // namespace host
}  // namespace dcnv3
