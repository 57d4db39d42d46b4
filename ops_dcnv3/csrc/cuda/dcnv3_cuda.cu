// The DCNv3 CUDA kernels of the extension. Their code lives in dcnv3_cuda_kernels.cuh, which the
// test-only host build (tests/cuda_host.py) also compiles as ordinary C++, so that CI runs these
// very lines on the CPU against the reference; this file is the one place nvcc compiles them.
#include "dcnv3_cuda_kernels.cuh"
