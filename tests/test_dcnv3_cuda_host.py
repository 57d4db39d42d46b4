"""The extension's CUDA kernels run on the CPU: the host build of dcnv3_cuda_kernels.cuh
(tests/cuda_host.py, the lines nvcc compiles into ops_dcnv3/_C, grid walked serially) against
the float64 reference and the CPU kernel over the CPU op tests' grid, so a change that breaks a
CUDA kernel's math fails CI without a GPU. Races, real atomics, launch bounds and speed need a
GPU (test_dcnv3_cuda.py, tools/gpu_check.sh)."""
from pathlib import Path

import pytest
import torch

import ops_dcnv3
from cuda_host import host_ops
from dcnv3_cases import CASE_IDS, CASES, make_inputs, op_args
from dcnv3_kernel_checks import (RESULTS, check_case, check_infinite_pixel,
                                 check_large_group_channels, check_non_finite, raw_results)

pytestmark = pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE,
                                reason='the compiled extension (the CPU kernel) is not built')
CUDA_DIR = Path(__file__).resolve().parent.parent / 'ops_dcnv3' / 'csrc' / 'cuda'


@pytest.fixture(scope='module')
def host():
    return host_ops()


def test_the_extension_compiles_the_same_kernel_lines():
    """dcnv3_cuda.cu, the file nvcc compiles, holds no kernel of its own: every kernel line is
    in the header the host build compiles too."""
    cu = (CUDA_DIR / 'dcnv3_cuda.cu').read_text()
    assert '#include "dcnv3_cuda_kernels.cuh"' in cu
    code = [line for line in cu.splitlines() if line.strip() and not line.startswith('//')]
    assert code == ['#include "dcnv3_cuda_kernels.cuh"'], code
    header = (CUDA_DIR / 'dcnv3_cuda_kernels.cuh').read_text()
    assert header.count('__global__') == 2 and '<<<' in header


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_host_cuda_kernels_match_reference_and_cpu(host, case, dtype):
    check_case(host, 'cpu', case, dtype)


def test_host_cuda_kernels_large_group_channels(host):
    check_large_group_channels(host, 'cpu', 1025)


@pytest.mark.parametrize('blocks', [1, 3])
def test_grid_stride_loops_give_the_same_results_on_a_small_grid(host, monkeypatch, blocks):
    """With at most `blocks` blocks every thread runs many steps of its grid-stride loop; the
    forward is then bitwise the same, the gradients the same up to the order of the atomic
    additions into the input gradient."""
    inputs = make_inputs(n=2, height=9, width=7, group=3, group_channels=5, remove_center=True)
    args = op_args(group=3, group_channels=5, offset_scale=1.5, remove_center=True)
    grad_output = torch.randn(2, 9, 7, 15, generator=torch.Generator().manual_seed(3),
                              dtype=torch.float64)
    full = raw_results(host, inputs, args, grad_output)
    monkeypatch.setenv('DCNV3_HOST_MAX_BLOCKS', str(blocks))
    small = raw_results(host, inputs, args, grad_output)
    assert torch.equal(small[0], full[0])
    for name, a, b in zip(RESULTS[1:], small[1:], full[1:]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15, msg=name)


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_host_cuda_kernels_non_finite_offsets_and_masks(host, dtype):
    check_non_finite(host, 'cpu', dtype)


@pytest.mark.parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_host_cuda_kernels_infinite_pixel(host, dtype):
    check_infinite_pixel(host, 'cpu', dtype)


def test_host_cuda_backward_is_refused_under_deterministic_algorithms(host):
    """The CUDA backward's atomics make its input gradient run-to-run different in the last
    bits; like torch's own atomic ops it refuses to run when determinism is asked for."""
    inputs = make_inputs(dtype=torch.float32)
    grad_output = torch.ones_like(host.dcnv3(*inputs, *op_args()))
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        with pytest.raises(RuntimeError, match='ops_dcnv3::dcnv3_backward on CUDA'):
            host.dcnv3_backward(*inputs, grad_output, *op_args())
    finally:
        torch.use_deterministic_algorithms(previous)
    assert all(t.isfinite().all() for t in host.dcnv3_backward(*inputs, grad_output,
                                                                *op_args()))
