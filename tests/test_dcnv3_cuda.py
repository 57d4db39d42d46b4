"""The CUDA kernels against the reference and the CPU kernel. Skipped without a GPU; run on
the GPU machine (see README)."""
import pytest
import torch

import ops_dcnv3
from dcnv3_cases import CASE_IDS, CASES, case_kwargs, make_inputs, op_args
from ops_dcnv3 import dcnv3, dcnv3_reference

pytestmark = pytest.mark.skipif(
    not (torch.cuda.is_available() and ops_dcnv3.EXTENSION_AVAILABLE
         and torch._C._dispatch_has_kernel_for_dispatch_key('ops_dcnv3::dcnv3', 'CUDA')),
    reason='needs a GPU and the extension built with CUDA kernels')

TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 2e-2,
             torch.bfloat16: 3e-2}


def forward_and_grads(fn, inputs, args, grad_output):
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves, *args)
    out.backward(grad_output.to(out.dtype))
    return [out.detach()] + [t.grad for t in leaves]


def assert_close(actual, expected, tol):
    atol = tol * expected.abs().max().item() + 1e-12
    torch.testing.assert_close(actual.double().cpu(), expected.double().cpu(), rtol=tol,
                               atol=atol)


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_cuda_matches_reference_and_cpu(case, dtype):
    shapes, args = case_kwargs(case)
    if dtype in (torch.float16, torch.bfloat16):
        # exact pixel edges from coarse offsets make offset gradients one-sided (see CPU test)
        args = args[:10] + (1.37,) + args[11:]
    inputs = make_inputs(dtype=dtype, **shapes)
    exact = [t.double() for t in inputs]
    grad_output = torch.randn(dcnv3_reference(*exact, *args).shape,
                              generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    expected = forward_and_grads(dcnv3_reference, exact, args, grad_output)
    on_gpu = forward_and_grads(dcnv3, [t.cuda() for t in inputs], args, grad_output.cuda())
    on_cpu = forward_and_grads(dcnv3, inputs, args, grad_output)
    for name, gpu, cpu, ref in zip(('output', 'input', 'offset', 'mask'), on_gpu, on_cpu,
                                   expected):
        assert gpu.dtype == dtype and gpu.is_cuda, name
        assert_close(gpu, ref, TOLERANCE[dtype])
        assert_close(gpu, cpu, TOLERANCE[dtype])


@pytest.mark.parametrize('remove_center', [False, True])
def test_cuda_gradcheck_float64(remove_center):
    inputs = [t.cuda().requires_grad_(True) for t in make_inputs(
        n=2, height=5, width=4, group=2, group_channels=3, remove_center=remove_center,
        offset_range=3.0)]
    args = op_args(group=2, group_channels=3, offset_scale=1.5, remove_center=remove_center)
    assert torch.autograd.gradcheck(lambda *t: dcnv3(*t, *args), inputs, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize('gc', [1025, 2048])
def test_cuda_large_group_channels(gc):
    inputs = make_inputs(n=1, height=6, width=5, group=2, group_channels=gc, dtype=torch.float32)
    args = op_args(group=2, group_channels=gc)
    expected = forward_and_grads(dcnv3_reference, inputs, args, torch.ones(1, 6, 5, 2 * gc))
    actual = forward_and_grads(dcnv3, [t.cuda() for t in inputs], args,
                               torch.ones(1, 6, 5, 2 * gc, device='cuda'))
    for a, e in zip(actual, expected):
        assert_close(a, e, 1e-4)


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


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason='needs two GPUs')
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
    torch.testing.assert_close(torch.compile(module, fullgraph=True)(x), expected, rtol=1e-4,
                               atol=1e-5)
