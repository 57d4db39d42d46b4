"""DCNv4 op speed, as ratios against baselines run in the same process and thread count: the
DCNv3 op on the same offsets and mask values (two tensors instead of one) and the pure-PyTorch
DCNv4 reference, at the FlashInternImage-T stage shapes (224x224, batch 8; G = 4, 8, 16, 32,
16 channels per group, 3x3, offset_scale 1).

    python benchmarks/bench_dcnv4_op.py [--device cpu|cuda] [--repeat 10] [--dtypes ...]

On CUDA, when the published ``DCNv4`` package (OpenGVLab/DCNv4) is importable, it is run too, as
the oracle: a column with its time and the largest difference of its output from ours.
"""
import argparse

import torch

from bench_dcnv3_op import median_ms, step
from dcnv4_shapes import FLASH_T_STAGES, offset_mask_inputs
from ops_dcnv3 import Geometry, dcnv3, dcnv4, dcnv4_reference
from ops_dcnv3.reference import split_offset_mask

DTYPES = ('float32', 'bfloat16', 'float16')


def geometry_args(group, gc):
    return (3, 3, 1, 1, 1, 1, 1, 1, group, gc, 1.0, 256, False)


def published_dcnv4():
    """The published DCNv4 autograd function, or None where the package is not installed."""
    try:
        from DCNv4.functions import DCNv4Function
    except ImportError:
        return None
    return DCNv4Function.apply


def calls(x, offset_mask, group, gc, published):
    args = geometry_args(group, gc)
    # DCNv3's inputs: the same values in two tensors of their own
    offset, mask = (t.detach().contiguous().requires_grad_(offset_mask.requires_grad)
                    for t in split_offset_mask(offset_mask, Geometry.from_args(*args, op='dcnv4')))
    fns = {'dcnv4': lambda: dcnv4(x, offset_mask, *args),
           'dcnv3': lambda: dcnv3(x, offset, mask, *args),
           'reference': lambda: dcnv4_reference(x, offset_mask, *args)}
    if published is not None:
        fns['published'] = lambda: published(x, offset_mask, *args)
    return fns


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--dtypes', nargs='+', choices=DTYPES, default=None,
                        help='default: float32 on the CPU, all three on CUDA')
    args = parser.parse_args()
    cuda = args.device.startswith('cuda')
    dtypes = args.dtypes or (list(DTYPES) if cuda else ['float32'])
    published = published_dcnv4() if cuda else None
    where = torch.cuda.get_device_name() if cuda else f'cpu, {torch.get_num_threads()} threads'
    print(f'DCNv4 op on {where}, 3x3, torch {torch.__version__}; published DCNv4 package: '
          f'{"yes" if published else "not installed" if cuda else "CUDA only"}')
    header = (f"{'case':<9} {'N,H,W,G,gc':<13} {'dtype':<9} {'mode':<8} {'v4 ms':>8} "
              f"{'v3 ms':>8} {'ref ms':>8} {'v3/v4':>6} {'ref/v4':>7}")
    if published:
        header += f" {'pub ms':>8} {'pub/v4':>7} {'max |v4-pub|':>13}"
    print(header)
    for name, batch, size, group, gc in FLASH_T_STAGES:
        for dtype in dtypes:
            for backward in (False, True):
                x, offset_mask = offset_mask_inputs(batch, size, group, gc, args.device,
                                                    getattr(torch, dtype), backward)
                fns = calls(x, offset_mask, group, gc, published)
                t = median_ms({k: step(fn, backward) for k, fn in fns.items()}, args.device,
                              args.repeat)
                line = (f"{name:<9} {f'{batch},{size},{size},{group},{gc}':<13} {dtype:<9} "
                        f"{'fwd+bwd' if backward else 'fwd':<8} {t['dcnv4']:8.2f} "
                        f"{t['dcnv3']:8.2f} {t['reference']:8.2f} "
                        f"{t['dcnv3'] / t['dcnv4']:5.2f}x {t['reference'] / t['dcnv4']:6.1f}x")
                if published:
                    with torch.no_grad():
                        diff = (fns['dcnv4']().float() - fns['published']().float()).abs().max()
                    line += (f" {t['published']:8.2f} {t['published'] / t['dcnv4']:6.2f}x "
                             f"{diff.item():13.2e}")
                print(line, flush=True)


if __name__ == '__main__':
    main()
