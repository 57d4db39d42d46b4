"""The DCNv4 op's CUDA kernels (the DCNv3 kernels on DCNv4's layout) on a GPU against the float64
reference over the CPU tests' grid, in every dtype, plus the autograd path and a wide group;
skipped without a GPU (the host build of the same kernel lines runs in CI:
test_dcnv4_op.py)."""
import pytest
import torch

import ops_dcnv3
from dcnv3_cases import CASE_IDS, CASES, make_inputs, offset_mask_of, op_args
from dcnv4_kernel_checks import check_kernels

pytestmark = pytest.mark.skipif(
    not (torch.cuda.is_available() and ops_dcnv3.EXTENSION_AVAILABLE
         and torch._C._dispatch_has_kernel_for_dispatch_key('ops_dcnv3::dcnv4', 'CUDA')),
    reason='needs a GPU and the extension built with CUDA')


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_cuda_kernels_match_the_reference(case, dtype):
    check_kernels(torch.ops.ops_dcnv3, 'cuda', case, dtype)


def test_gradcheck_on_the_gpu():
    x, offset, mask = make_inputs(n=1, height=5, width=4, group=2, group_channels=3,
                                  offset_range=3.0, device='cuda')
    args = op_args(group=2, group_channels=3, offset_scale=1.3)
    leaves = [t.requires_grad_(True) for t in (x, offset_mask_of(offset, mask, 2, 9))]
    assert torch.autograd.gradcheck(lambda a, b: ops_dcnv3.dcnv4(a, b, *args), leaves)


def test_wide_groups_past_a_block_of_threads():
    x, offset, mask = make_inputs(n=1, height=6, width=5, group=2, group_channels=1025,
                                  dtype=torch.float32)
    args = op_args(group=2, group_channels=1025)
    offset_mask = offset_mask_of(offset, mask, 2, 9)
    expected = ops_dcnv3.dcnv4_reference(x.double(), offset_mask.double(), *args)
    got = torch.ops.ops_dcnv3.dcnv4(x.cuda(), offset_mask.cuda(), *args)
    torch.testing.assert_close(got.double().cpu(), expected, rtol=1e-4, atol=1e-5)
