"""DCNv3 op speed and memory, as ratios against baselines run in the same process and thread count:
the pure-PyTorch reference (what users had on CPU) and a 3x3 depthwise convolution of the same
NHWC tensor (the cheapest spatial op a block could use instead).

    python benchmarks/bench_dcnv3_op.py [--device cpu] [--repeat 20]

Peak memory is the growth of the resident set's high-water mark (Linux VmHWM, reset just before)
while one forward+backward runs, in a fresh subprocess per case.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ops_dcnv3 import dcnv3, dcnv3_reference  # noqa: E402

# (name, batch, H=W, group, group_channels): InternImage-T stages at 224x224, batch 8, and one
# wider-group shape.
CASES = [('T stage1', 8, 56, 4, 16), ('T stage2', 8, 28, 8, 16), ('T stage3', 8, 14, 16, 16),
         ('T stage4', 8, 7, 32, 16), ('gc=32', 8, 28, 8, 32)]
IMPLEMENTATIONS = {'ours': dcnv3, 'reference': dcnv3_reference}


def make_inputs(batch, size, group, gc, device, dtype=torch.float32, requires_grad=False):
    g = torch.Generator().manual_seed(0)
    points = 9
    x = torch.randn(batch, size, size, group * gc, generator=g).to(device, dtype)
    offset = (torch.randn(batch, size, size, group * points * 2, generator=g) * 2).to(device, dtype)
    mask = torch.rand(batch, size, size, group, points, generator=g).softmax(-1)
    mask = mask.reshape(batch, size, size, -1).to(device, dtype)
    for t in (x, offset, mask):
        t.requires_grad_(requires_grad)
    return x, offset, mask


def dcn_call(fn, x, offset, mask, group, gc):
    return fn(x, offset, mask, 3, 3, 1, 1, 1, 1, 1, 1, group, gc, 1.0, 256, False)


def depthwise_call(x, weight):
    # The NHWC tensor viewed as NCHW is channels_last in memory: no copy, the fast conv path.
    return F.conv2d(x.permute(0, 3, 1, 2), weight, padding=1, groups=weight.shape[0])


def synchronize(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def median_ms(fn, device, repeat):
    fn()
    synchronize(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def step(call, backward):
    def run():
        out = call()
        if backward:
            out.backward(torch.ones_like(out))
    return run


def time_case(batch, size, group, gc, device, repeat, backward):
    x, offset, mask = make_inputs(batch, size, group, gc, device, requires_grad=backward)
    weight = torch.randn(group * gc, 1, 3, 3, device=device, requires_grad=backward)
    result = {name: median_ms(step(lambda fn=fn: dcn_call(fn, x, offset, mask, group, gc),
                                   backward), device, repeat)
              for name, fn in IMPLEMENTATIONS.items()}
    result['depthwise'] = median_ms(step(lambda: depthwise_call(x, weight), backward), device,
                                    repeat)
    return result


def status_bytes(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'{field} missing from /proc/self/status')


def memory_probe(impl, batch, size, group, gc):
    """Runs in a fresh process: bytes the resident set grew by during one forward+backward.
    A tiny warm-up call first loads the code paths, so only the call's own memory is counted."""
    warm = make_inputs(1, 4, group, gc, 'cpu', requires_grad=True)
    dcn_call(IMPLEMENTATIONS[impl], *warm, group, gc).sum().backward()
    x, offset, mask = make_inputs(batch, size, group, gc, 'cpu', requires_grad=True)
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # resets the high-water mark (VmHWM) to the current resident set
    before = status_bytes('VmRSS')
    out = dcn_call(IMPLEMENTATIONS[impl], x, offset, mask, group, gc)
    out.backward(torch.ones_like(out))
    print(json.dumps({'peak_growth': max(status_bytes('VmHWM') - before, 0)}))


def peak_growth_mb(impl, case):
    cmd = [sys.executable, __file__, '--memory-probe', impl, *map(str, case[1:])]
    env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])['peak_growth'] / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--no-memory', action='store_true', help='skip the peak-memory column')
    parser.add_argument('--memory-probe', nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        impl, *dims = args.memory_probe
        return memory_probe(impl, *map(int, dims))

    print(f'DCNv3 op on {args.device}, {torch.get_num_threads()} threads, float32, 3x3, '
          f'torch {torch.__version__}')
    header = (f"{'case':<10} {'N,H,W,G,gc':<14} {'mode':<8} {'ours ms':>8} {'ref ms':>8} "
              f"{'dw ms':>7} {'ref/ours':>9} {'ours/dw':>8}")
    if args.device == 'cpu' and not args.no_memory:
        header += f" {'mem MB ours/ref':>16}"
    print(header)
    for case in CASES:
        name, batch, size, group, gc = case
        for backward in (False, True):
            t = time_case(batch, size, group, gc, args.device, args.repeat, backward)
            line = (f"{name:<10} {f'{batch},{size},{size},{group},{gc}':<14} "
                    f"{'fwd+bwd' if backward else 'fwd':<8} {t['ours']:8.2f} "
                    f"{t['reference']:8.2f} {t['depthwise']:7.2f} "
                    f"{t['reference'] / t['ours']:8.1f}x {t['ours'] / t['depthwise']:7.1f}x")
            if backward and args.device == 'cpu' and not args.no_memory:
                ours, ref = (peak_growth_mb(impl, case) for impl in ('ours', 'reference'))
                line += f' {ours:7.1f}/{ref:<8.1f}'
            print(line, flush=True)


if __name__ == '__main__':
    main()
