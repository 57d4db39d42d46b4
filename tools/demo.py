"""The README's main job: checks the compiled DCNv3 op against the reference on this machine and
benchmarks it, leaving the results in the work dir. Later tasks grow this into end-to-end
training on the embedded data."""
import argparse
import os
import subprocess
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import ops_dcnv3  # noqa: E402


def parity_report():
    """Max difference of forward and gradients, compiled op vs reference, in float64."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 14, 14, 64, generator=g, dtype=torch.float64)
    offset = (torch.rand(2, 14, 14, 4 * 9 * 2, generator=g, dtype=torch.float64) - 0.5) * 6
    mask = torch.rand(2, 14, 14, 4, 9, generator=g, dtype=torch.float64).softmax(-1)
    mask = mask.reshape(2, 14, 14, -1)
    args = (3, 3, 1, 1, 1, 1, 1, 1, 4, 16, 2.0, 256, False)
    lines = []
    results = {}
    for name, fn in (('compiled', ops_dcnv3.dcnv3), ('reference', ops_dcnv3.dcnv3_reference)):
        leaves = [t.clone().requires_grad_(True) for t in (x, offset, mask)]
        out = fn(*leaves, *args)
        out.backward(torch.ones_like(out))
        results[name] = [out.detach()] + [t.grad for t in leaves]
    for label, a, b in zip(('output', 'grad input', 'grad offset', 'grad mask'),
                           results['compiled'], results['reference']):
        lines.append(f'{label:<12} max |compiled - reference| = {(a - b).abs().max().item():.3e}'
                     f'  (max |reference| = {b.abs().max().item():.3e})')
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    if not ops_dcnv3.EXTENSION_AVAILABLE:
        sys.exit('the compiled DCNv3 op is not built: run `make setup` first')

    print('[demo] DCNv3: compiled op vs reference (float64)')
    report = parity_report()
    print('\n'.join(report))
    print('[demo] DCNv3 op benchmark (a minute or two)', flush=True)
    bench = subprocess.run([sys.executable, os.path.join(ROOT, 'benchmarks', 'bench_dcnv3_op.py'),
                            '--repeat', '10'], check=True, capture_output=True, text=True).stdout
    print(bench)
    path = os.path.join(args.work_dir, 'dcnv3_op.txt')
    with open(path, 'w') as f:
        f.write('\n'.join(report) + '\n\n' + bench)
    print(f'[demo] results written to {path}')


if __name__ == '__main__':
    main()
