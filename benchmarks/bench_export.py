"""InternImage-T classifier latency on the CPU: the portable ONNX export in ONNX Runtime against
PyTorch, in one process with the same thread count.

    python benchmarks/bench_export.py [--batch 1 8] [--size 224] [--repeat 10]

Rows: PyTorch on our DCNv3 op (the baseline), PyTorch on the portable decomposition (the
computation the ONNX file holds) and ONNX Runtime on the exported file, for each batch size of
the one dynamic-shape export. Timed forwards alternate between them (median per row).
"""
import argparse
import copy
import os
import tempfile

import onnxruntime
import torch

from bench_backbone import interleaved_seconds
from internimage.models import internimage_t
from ops_dcnv3.onnx import dcnv3_export_form, export_onnx

BASELINE = 'PyTorch, our DCNv3 op'
DECOMPOSED = 'PyTorch, portable decomposition'
RUNTIME = f'ONNX Runtime {onnxruntime.__version__}, portable export'


def onnxruntime_session(model, size, folder):
    """A CPU session on the portable export of ``model`` with PyTorch's thread count."""
    path = os.path.join(folder, 'internimage_t.onnx')
    export_onnx(model, (torch.randn(2, 3, size, size),), path, 'portable', ['image'], ['logits'],
                {'image': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'}})
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    return lambda images: session.run(None, {'image': images.numpy()})[0]


def markdown_table(header, rows):
    lines = [header, ['---'] * len(header), *rows]
    return '\n'.join('| ' + ' | '.join(cells) + ' |' for cells in lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=10)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = internimage_t().eval()
    print(f'torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, '
          f'{torch.get_num_threads()} threads, InternImage-T classifier, {args.size}x{args.size}, '
          'median of interleaved timed forwards after warm-up')
    decomposed = copy.deepcopy(model)
    rows = []
    with tempfile.TemporaryDirectory() as folder, dcnv3_export_form(decomposed, 'portable'):
        models = {BASELINE: model, DECOMPOSED: decomposed,
                  RUNTIME: onnxruntime_session(model, args.size, folder)}
        for batch in args.batch:
            images = torch.randn(batch, 3, args.size, args.size)
            seconds = interleaved_seconds(models, images, args.warmup,
                                          {name: args.repeat for name in models})
            rows += [(str(batch), name, f'{seconds[name] * 1e3:.0f}',
                      f'{batch / seconds[name]:.1f}', f'{seconds[BASELINE] / seconds[name]:.2f}x')
                     for name in models]
    print()
    print(markdown_table(('batch', 'runtime', 'ms / batch', 'images/s',
                          'speed vs PyTorch (our op)'), rows))


if __name__ == '__main__':
    main()
