// Test-only: the extension's CUDA kernels (ops_dcnv3/csrc/cuda/dcnv3_cuda_kernels.cuh, the lines
// nvcc compiles into ops_dcnv3/_C) compiled as ordinary C++, their grid walked on the host.
// tests/cuda_host.py builds this file with ops_dcnv3/csrc/dcnv3.cpp into the torch library
// dcnv3_cuda_host, whose CPU kernels these are.
#include "cuda/dcnv3_cuda_kernels.cuh"
