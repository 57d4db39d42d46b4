"""One ImageNet-style training step of InternImage-T (backbone and 1000-class head) on a GPU:
forward, cross-entropy, backward and AdamW step under bf16 autocast, as the published recipes
train. Prints the median step time, images/s and the peak GPU memory.

    python benchmarks/bench_train_step.py [--batch 16] [--size 224] [--steps 5] [--profile]

--profile then runs three more steps under torch.profiler and prints where the GPU time goes
(the kernels with the most GPU time) and how busy the GPU was: a step whose GPU time is far
below its wall time is bound by the host's kernel launches, not by the kernels.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from internimage.models import internimage_t


def train_step(model, optimizer, images, labels):
    with torch.autocast('cuda', dtype=torch.bfloat16):
        loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def timed_step_s(step):
    torch.cuda.synchronize()
    start = time.perf_counter()
    loss = step()
    torch.cuda.synchronize()
    assert torch.isfinite(loss), f'loss is {loss.item()}'
    return time.perf_counter() - start


def print_profile(step, step_s, steps=3, rows=15):
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
    events = prof.key_averages()
    # GPU-side events only (kernels, copies), not the annotations that span them
    kernel_us = sum(e.self_device_time_total for e in prof.events()
                    if e.device_type == DeviceType.CUDA
                    and not getattr(e, 'is_user_annotation', False)) / steps
    launches = sum(e.count for e in events if e.key in ('cudaLaunchKernel', 'cuLaunchKernel',
                                                        'cudaLaunchKernelExC')) / steps
    print(f'profile: GPU busy {kernel_us / 1e3:.1f} ms of the {step_s * 1e3:.1f} ms step '
          f'({kernel_us / 1e6 / step_s:.0%}), {launches:.0f} kernel launches per step')
    print(events.table(sort_by='self_device_time_total', row_limit=rows, max_name_column_width=60))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--profile', action='store_true', help='then profile three steps')
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit('bench_train_step.py needs a GPU')
    torch.manual_seed(0)
    model = internimage_t(num_classes=1000).cuda().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    images = torch.randn(args.batch, 3, args.size, args.size, device='cuda')
    labels = torch.randint(0, 1000, (args.batch,), device='cuda')

    def step():
        return train_step(model, optimizer, images, labels)

    for _ in range(args.warmup):
        timed_step_s(step)
    torch.cuda.reset_peak_memory_stats()
    seconds = statistics.median(timed_step_s(step) for _ in range(args.steps))
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(f'InternImage-T training step on {torch.cuda.get_device_name()}, torch '
          f'{torch.__version__}: batch {args.batch}, {args.size}x{args.size}, bf16 autocast, '
          f'AdamW; median of {args.steps} steps after {args.warmup} warm-up')
    print(f'step {seconds * 1e3:.1f} ms, {args.batch / seconds:.1f} images/s, '
          f'peak memory {peak:.2f} GiB')
    if args.profile:
        print_profile(step, seconds)


if __name__ == '__main__':
    main()
