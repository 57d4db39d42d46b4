"""DCNv3 op speed and memory, as ratios against baselines run in the same process and thread count:
the pure-PyTorch reference (what users had on CPU) and a 3x3 depthwise convolution of the same
NHWC tensor (the cheapest spatial op a block could use instead).

    python benchmarks/bench_dcnv3_op.py [--device cpu|cuda] [--repeat 10] [--overhead]
                                        [--dtypes float32 bfloat16 float16]

On CUDA the table also gives each dtype (``--dtypes``, default fp32, bf16 and fp16) and the
forward's memory throughput.
``--overhead`` prints instead the per-call time of the Python layers on a tiny input, next to the
raw dispatcher op (CPU, compiled extension needed).

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

from ops_dcnv3 import DCNv3, dcnv3, dcnv3_reference

# (name, batch, H=W, group, group_channels): InternImage-T stages at 224x224, batch 8, and one
# wider-group shape.
CASES = [('T stage1', 8, 56, 4, 16), ('T stage2', 8, 28, 8, 16), ('T stage3', 8, 14, 16, 16),
         ('T stage4', 8, 7, 32, 16), ('gc=32', 8, 28, 8, 32)]
IMPLEMENTATIONS = {'ours': dcnv3, 'reference': dcnv3_reference}
CUDA_DTYPES = ('float32', 'bfloat16', 'float16')
# GPU: the stage shapes of T, B and L at 224x224 (H=W=56/28/14/7, gc=16), batch 64, and a
# 64x64 map with G=4.
VARIANT_GROUPS = {'T': (4, 8, 16, 32), 'B': (7, 14, 28, 56), 'L': (10, 20, 40, 80)}
CUDA_CASES = [(f'{v} stage{s + 1}', 64, size, groups[s], 16)
              for v, groups in VARIANT_GROUPS.items()
              for s, size in enumerate((56, 28, 14, 7))] + [('64x64 G=4', 64, 64, 4, 16)]


def make_inputs(batch, size, group, gc, device, dtype=torch.float32, requires_grad=False):
    """Offsets of a few pixels (randn*2) and softmax masks, generated on the CPU for
    reproducibility."""
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


def timed_ms(fn, device):
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return (time.perf_counter() - start) * 1e3


def median_ms(fns, device, repeat, block=3):
    """Median steady-state time of each function. The functions take turns, so that load from
    elsewhere on the machine slows them all alike and the ratios stay fair; each turn makes one
    untimed call and then times `block` calls, so every timed call finds its inputs in cache and
    its threads awake, as an op inside a network does (the layer before it has just written
    them), rather than after another implementation has flushed the caches."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            fn()
            times[name].extend(timed_ms(fn, device) for _ in range(block))
    return {name: statistics.median(t) for name, t in times.items()}


def step(call, backward):
    def run():
        out = call()
        if backward:
            out.backward(torch.ones_like(out))
    return run


def time_case(batch, size, group, gc, device, repeat, backward, dtype=torch.float32):
    x, offset, mask = make_inputs(batch, size, group, gc, device, dtype, requires_grad=backward)
    weight = torch.randn(group * gc, 1, 3, 3, device=device, dtype=dtype,
                         requires_grad=backward)
    fns = {name: step(lambda fn=fn: dcn_call(fn, x, offset, mask, group, gc), backward)
           for name, fn in IMPLEMENTATIONS.items()}
    fns['depthwise'] = step(lambda: depthwise_call(x, weight), backward)
    return median_ms(fns, device, repeat)


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


def copy_bandwidth():
    """Device memory bandwidth as a large copy achieves it (bytes read + written per second)."""
    x = torch.empty(2**28, device='cuda', dtype=torch.float32)
    y = torch.empty_like(x)
    ms = median_ms({'copy': lambda: y.copy_(x)}, 'cuda', 20)['copy']
    return 2 * x.numel() * x.element_size() / (ms * 1e-3)


def cuda_main(repeat, dtypes):
    """Our kernel vs the reference on the GPU; the forward's traffic (input, offset, mask and
    output bytes) over its time, as a fraction of the copy bandwidth."""
    bandwidth = copy_bandwidth()
    print(f'DCNv3 op on {torch.cuda.get_device_name()}, torch {torch.__version__}, 3x3; '
          f'copy bandwidth {bandwidth / 1e9:.0f} GB/s')
    print(f"{'case':<11} {'N,H,W,G,gc':<15} {'dtype':<9} {'mode':<8} {'ours ms':>8} "
          f"{'ref ms':>8} {'ref/ours':>9} {'GB/s':>6} {'of copy':>8}")
    for name, batch, size, group, gc in CUDA_CASES:
        for dtype in dtypes:
            for backward in (False, True):
                t = time_case(batch, size, group, gc, 'cuda', repeat, backward, dtype)
                line = (f"{name:<11} {f'{batch},{size},{size},{group},{gc}':<15} "
                        f"{str(dtype).split('.')[1]:<9} {'fwd+bwd' if backward else 'fwd':<8} "
                        f"{t['ours']:8.3f} {t['reference']:8.3f} "
                        f"{t['reference'] / t['ours']:8.1f}x")
                if not backward:
                    elements = batch * size * size * group * (2 * gc + 27)  # x, out, off, mask
                    rate = elements * dtype.itemsize / (t['ours'] * 1e-3)
                    line += f' {rate / 1e9:6.0f} {rate / bandwidth:7.0%}'
                print(line, flush=True)


def per_call_us(fn, calls=100, blocks=20):
    """Fastest over blocks of the mean time of one call in a block of back-to-back calls: load
    from elsewhere only ever adds time, and at a few microseconds a call it is most of the
    spread."""
    fn()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return min(times)


def overhead_main():
    """Per-call cost of the Python API around the dispatcher op, on a 1x4x4 input (G=2, gc=4)
    whose kernel work is negligible; inference mode, as a deployed network calls the op."""
    batch, size, group, gc = 1, 4, 2, 4
    x, offset, mask = make_inputs(batch, size, group, gc, 'cpu')
    module = DCNv3(channels=group * gc, group=group).eval()
    calls = {
        'torch.ops.ops_dcnv3.dcnv3 (raw)': lambda: dcn_call(torch.ops.ops_dcnv3.dcnv3, x, offset,
                                                            mask, group, gc),
        'ops_dcnv3.dcnv3': lambda: dcn_call(dcnv3, x, offset, mask, group, gc),
        'DCNv3 module forward': lambda: module(x),
    }
    print(f'DCNv3 per-call overhead on cpu, {torch.get_num_threads()} threads, '
          f'input {batch}x{size}x{size}x{group * gc}, torch {torch.__version__}')
    print(f"{'call':<34} {'us/call':>8} {'over raw':>9}")
    with torch.inference_mode():
        # interleaved rounds, as in median_ms, so that no call is timed only in a busy spell
        rounds = [{name: per_call_us(fn) for name, fn in calls.items()} for _ in range(5)]
    raw = min(r['torch.ops.ops_dcnv3.dcnv3 (raw)'] for r in rounds)
    for name in calls:
        us = min(r[name] for r in rounds)
        print(f'{name:<34} {us:8.1f} {us - raw:+9.1f}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--dtypes', nargs='+', choices=CUDA_DTYPES, default=list(CUDA_DTYPES),
                        help='the dtypes of the CUDA table')
    parser.add_argument('--no-memory', action='store_true', help='skip the peak-memory column')
    parser.add_argument('--overhead', action='store_true',
                        help='per-call overhead of the Python API on a tiny input')
    parser.add_argument('--memory-probe', nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.overhead:
        return overhead_main()
    if args.memory_probe:
        impl, *dims = args.memory_probe
        return memory_probe(impl, *map(int, dims))
    if args.device.startswith('cuda'):
        return cuda_main(args.repeat, [getattr(torch, name) for name in args.dtypes])

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
