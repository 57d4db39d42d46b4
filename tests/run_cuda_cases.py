"""Every CUDA op-test case once, forward and backward, with nothing compared: the program that
tools/gpu_check.sh runs under compute-sanitizer (memcheck: out-of-bounds and misaligned global
accesses; initcheck: reads of uninitialised global memory) so that the kernels' memory accesses
are checked at the shapes the tests use, borders, remove_center and group_channels 1..1025
included. The kernels use no shared memory, so racecheck has nothing to check.

    compute-sanitizer --tool memcheck python tests/run_cuda_cases.py
"""
import torch

import ops_dcnv3  # noqa: F401  (defines the ops behind CUDA_OPS)
from dcnv3_cases import CASES, case_kwargs, make_inputs, op_args

CUDA_OPS = torch.ops.ops_dcnv3


def run_case(inputs, args):
    grad_output = torch.ones_like(CUDA_OPS.dcnv3(*inputs, *args))
    CUDA_OPS.dcnv3_backward(*inputs, grad_output, *args)


def main():
    count = 0
    for dtype in (torch.float32, torch.bfloat16):
        for case in CASES:
            kwargs, args = case_kwargs(case)
            run_case(make_inputs(n=2, height=7, width=6, dtype=dtype, device='cuda', **kwargs),
                     args)
            count += 1
    for gc in (1025,):
        run_case(make_inputs(n=1, height=4, width=5, group=2, group_channels=gc,
                             dtype=torch.float32, device='cuda'), op_args(group=2,
                                                                          group_channels=gc))
        count += 1
    torch.cuda.synchronize()
    print(f'{count} cases ran forward and backward on {torch.cuda.get_device_name()}')


if __name__ == '__main__':
    main()
