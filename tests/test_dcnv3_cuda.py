"""The CUDA kernels against the reference and the CPU kernel. Skipped without a GPU; run on the
GPU machine by tools/gpu_check.sh, also without pytest (``python tests/test_dcnv3_cuda.py``).
Their math is checked on every CI run by the host build (test_dcnv3_cuda_host.py); what only
this file can check: the real launch, atomics, large and multi-GPU inputs, torch.compile."""
import sys

import torch

import ops_dcnv3
import plain_runner
from dcnv3_cases import CASE_IDS, CASES, make_inputs, op_args
from dcnv3_kernel_checks import assert_close, check_case, check_large_group_channels
from ops_dcnv3 import dcnv3
from plain_runner import parametrize, skip_if


def skip_reason():
    if not torch.cuda.is_available():
        return 'needs a GPU'
    if not ops_dcnv3.EXTENSION_AVAILABLE:
        return 'needs the compiled extension'
    if not torch._C._dispatch_has_kernel_for_dispatch_key('ops_dcnv3::dcnv3', 'CUDA'):
        return 'the extension was built without CUDA kernels'
    return None


SKIP_REASON = skip_reason()
pytestmark = plain_runner.module_skip(SKIP_REASON)
CUDA_OPS = torch.ops.ops_dcnv3


@parametrize('case', CASES, ids=CASE_IDS)
@parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_cuda_matches_reference_and_cpu(case, dtype):
    check_case(CUDA_OPS, 'cuda', case, dtype)


@parametrize('remove_center', [False, True])
def test_cuda_gradcheck_float64(remove_center):
    inputs = [t.cuda().requires_grad_(True) for t in make_inputs(
        n=2, height=5, width=4, group=2, group_channels=3, remove_center=remove_center,
        offset_range=3.0)]
    args = op_args(group=2, group_channels=3, offset_scale=1.5, remove_center=remove_center)
    # nondet_tol: the atomics add the input gradient in any order (1e-12 is far below a wrong
    # gradient and far above float64 reordering)
    assert torch.autograd.gradcheck(lambda *t: dcnv3(*t, *args), inputs, eps=1e-6, atol=1e-6,
                                    nondet_tol=1e-12)


def test_cuda_backward_is_refused_under_deterministic_algorithms():
    inputs = [t.cuda().requires_grad_(True) for t in make_inputs(dtype=torch.float32)]
    out = dcnv3(*inputs, *op_args())
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        out.sum().backward()
    except RuntimeError as error:
        assert 'ops_dcnv3::dcnv3_backward on CUDA' in str(error), error
    else:
        raise AssertionError('the backward ran under use_deterministic_algorithms(True)')
    finally:
        torch.use_deterministic_algorithms(previous)


@parametrize('gc', [1025, 2048])
def test_cuda_large_group_channels(gc):
    check_large_group_channels(CUDA_OPS, 'cuda', gc)


def test_cuda_large_input_no_illegal_access():
    """More than 2**31 elements in input and output (64-bit indexing, grid-stride loops),
    checked against the CPU kernel on the last images, where 32-bit indices would wrap."""
    n, size, group, gc = 2000, 96, 4, 32
    g = torch.Generator(device='cuda').manual_seed(0)
    x = torch.rand(n, size, size, group * gc, device='cuda', dtype=torch.bfloat16, generator=g)
    offset = torch.randn(n, size, size, group * 18, device='cuda', dtype=torch.bfloat16,
                         generator=g)
    mask = torch.rand(n, size, size, group * 9, device='cuda', dtype=torch.bfloat16,
                      generator=g)
    args = op_args(group=group, group_channels=gc)
    assert x.numel() > 2**31
    out = dcnv3(x, offset, mask, *args)
    torch.cuda.synchronize()
    cpu = dcnv3(x[-2:].cpu(), offset[-2:].cpu(), mask[-2:].cpu(), *args)
    assert_close(out[-2:], cpu, 3e-2)


@skip_if(SKIP_REASON is None and torch.cuda.device_count() < 2, reason='needs two GPUs')
def test_cuda_device_guard_on_second_gpu():
    inputs = make_inputs(dtype=torch.float32)
    expected = dcnv3(*[t.cuda(0) for t in inputs], *op_args())
    with torch.cuda.device(0):
        out = dcnv3(*[t.cuda(1) for t in inputs], *op_args())
    assert out.device == torch.device('cuda', 1)
    assert_close(out, expected, 1e-5)


def test_cuda_compile_fullgraph():
    torch._dynamo.reset()
    module = ops_dcnv3.DCNv3(channels=32, group=4).cuda()
    x = torch.randn(2, 8, 8, 32, device='cuda')
    expected = module(x)
    compiled = torch.compile(module, fullgraph=True)
    torch.testing.assert_close(compiled(x), expected, rtol=1e-4, atol=1e-5)
    with torch.autocast('cuda', dtype=torch.bfloat16):  # how the recipes train
        expected, out = module(x), compiled(x)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, expected, rtol=2e-2, atol=2e-2)


if __name__ == '__main__':
    sys.exit(plain_runner.main(globals(), SKIP_REASON))
