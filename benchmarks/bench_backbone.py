"""InternImage-T and FlashInternImage-T classifier inference throughput on the CPU, side by side
with timm's ConvNeXt-T and Swin-T, all in one process with the same thread count.

    python benchmarks/bench_backbone.py [--batch 8] [--repeat 10] [--profile]

Prints images/s and the ratio to convnext_tiny for InternImage-T on the compiled DCNv3 op (eager
and whole-model torch.compile with fullgraph=True, compiled during the warm-up) and on the
pure-PyTorch reference op. Timed forwards alternate between the models (median per model),
so other load on the machine falls on all of them alike. --profile adds a torch.profiler table
for InternImage-T and the shares of its time spent in the DCNv3 op and in the DCNv3 modules.
"""
import argparse
import statistics
import time

import timm
import torch

from internimage.models import flash_internimage_t, internimage_t
from ops_dcnv3 import DCNv3

BASELINE = 'convnext_tiny'
OURS = 'internimage_t (our DCNv3 op)'
COMPILED = 'internimage_t (our DCNv3 op, torch.compile)'
REFERENCE = 'internimage_t (reference op)'
FLASH = 'flash_internimage_t (our DCNv4 op)'


def build_models():
    return {
        OURS: lambda: internimage_t(core_op='DCNv3'),
        COMPILED: lambda: torch.compile(internimage_t(core_op='DCNv3'), fullgraph=True),
        REFERENCE: lambda: internimage_t(core_op='DCNv3_pytorch'),
        FLASH: lambda: flash_internimage_t(),
        BASELINE: lambda: timm.create_model(BASELINE, pretrained=False),
        'swin_tiny_patch4_window7_224': lambda: timm.create_model(
            'swin_tiny_patch4_window7_224', pretrained=False),
    }


def interleaved_seconds(models, images, warmup, repeats):
    """Median wall time of one forward per model. Rounds alternate between the models, so load
    from other processes on the machine falls on all of them alike; ``repeats[name]`` rounds
    time model ``name`` (fewer for the slow reference op)."""
    times = {name: [] for name in models}
    with torch.inference_mode():
        for name, model in models.items():
            for _ in range(warmup):
                model(images)
        for round_ in range(max(repeats.values())):
            for name, model in models.items():
                if round_ < repeats[name]:
                    start = time.perf_counter()
                    model(images)
                    times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def dcnv3_module_seconds(model, images):
    """Wall time spent inside the DCNv3 modules (projections, depthwise conv, offset/mask,
    softmax and the op) during one forward, measured with forward hooks."""
    spent = []

    def start(module, args):
        module._bench_start = time.perf_counter()

    def stop(module, args, output):
        spent.append(time.perf_counter() - module._bench_start)

    handles = [h for m in model.modules() if isinstance(m, DCNv3)
               for h in (m.register_forward_pre_hook(start), m.register_forward_hook(stop))]
    begin = time.perf_counter()
    with torch.inference_mode():
        model(images)
    total = time.perf_counter() - begin
    for handle in handles:
        handle.remove()
    return sum(spent), total


def profile(model, images):
    """Top operators of one forward, the DCNv3 op's share of the operator time and the DCNv3
    modules' share of the wall time."""
    with torch.inference_mode(), torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        model(images)
    events = prof.key_averages()
    print(events.table(sort_by='self_cpu_time_total', row_limit=15))
    total = sum(e.self_cpu_time_total for e in events)
    op = sum(e.self_cpu_time_total for e in events if e.key.startswith('ops_dcnv3::'))
    print(f'DCNv3 op: {100 * op / total:.1f}% of the operator time '
          f'({op / 1e3:.0f} of {total / 1e3:.0f} ms)')
    module, wall = dcnv3_module_seconds(model, images)
    print(f'DCNv3 modules (op + projections + dw conv + offset/mask + softmax): '
          f'{100 * module / wall:.1f}% of the forward ({module * 1e3:.0f} of {wall * 1e3:.0f} ms)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--reference-repeat', type=int, default=3,
                        help='repeats for the (slow) reference-op model')
    parser.add_argument('--profile', action='store_true')
    args = parser.parse_args()

    torch.manual_seed(0)
    images = torch.randn(args.batch, 3, args.size, args.size)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, '
          f'{args.size}x{args.size}, inference_mode, median of interleaved timed forwards '
          f'after warm-up')
    models = {name: build().eval() for name, build in build_models().items()}
    repeats = {name: args.reference_repeat if name == REFERENCE else args.repeat
               for name in models}
    seconds = interleaved_seconds(models, images, args.warmup, repeats)
    rows = [(name, sum(p.numel() for p in model.parameters()) / 1e6, seconds[name] * 1e3,
             args.batch / seconds[name]) for name, model in models.items()]
    if args.profile:
        profile(models[OURS], images)

    baseline = next(r[3] for r in rows if r[0] == BASELINE)
    print(f'\n| model | params (M) | ms / batch | images/s | vs {BASELINE} |')
    print('|---|---|---|---|---|')
    for name, params, ms, throughput in rows:
        print(f'| {name} | {params:.1f} | {ms:.0f} | {throughput:.1f} | '
              f'{throughput / baseline:.2f}x |')


if __name__ == '__main__':
    main()
