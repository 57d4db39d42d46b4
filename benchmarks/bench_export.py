"""Deployed InternImage-T models on the CPU against PyTorch, in one process with one thread
count: each exported form timed in turns with the PyTorch model it came from.

    python benchmarks/bench_export.py [--task classification|detection|segmentation]
                                      [--batch 1 8] [--size S] [--repeat N]

classification: the InternImage-T classifier at SxS (default 224). Rows: PyTorch on our DCNv3 op
(the baseline), PyTorch on the portable decomposition (the computation the portable ONNX file
holds), ONNX Runtime on the portable export (GridSample), ONNX Runtime on the custom-op export
(our op through onnxruntime-extensions), and the torch.export + AOTInductor .pt2 package.
detection / segmentation: Mask R-CNN (1x COCO) or UperNet (ADE20K) with InternImage-T and random
weights on SxS images (default 320, the config's test resize set to that size so that no image
is resized), the whole model: mmdet's inference_detector / mmseg's inference_model (the
baseline) against ONNX Runtime on the portable and on the custom-op export (pre- and
post-processing in the graph). There is no .pt2 row: torch.export cannot trace mmdet's and
mmseg's test paths. Timed calls alternate between the rows (median per row).
"""
import argparse
import copy
import os
import tempfile

import numpy as np
import onnxruntime
import torch

from bench_backbone import interleaved_seconds
from internimage.models import internimage_t
from ops_dcnv3.onnx import dcnv3_export_form, export_onnx
from ops_dcnv3.onnxruntime_ops import session_options

CONFIGS = {
    'detection': 'configs/detection/coco/mask_rcnn_internimage_t_fpn_1x_coco.py',
    'segmentation': 'configs/segmentation/ade20k/upernet_internimage_t_512_160k_ade20k.py',
}
ORT = f'ONNX Runtime {onnxruntime.__version__}'


def session(path, mode):
    options = session_options() if mode == 'custom' else onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    return onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def classifier_rows(size, folder):
    """{row name: callable on an NCHW batch}, the first the baseline."""
    from internimage.deploy.pt2 import export_pt2, load_pt2
    torch.manual_seed(0)
    model = internimage_t().eval()
    decomposed = copy.deepcopy(model)
    rows = {'PyTorch, our DCNv3 op': model, 'PyTorch, portable decomposition': decomposed}
    for mode in ('portable', 'custom'):
        path = os.path.join(folder, f'{mode}.onnx')
        export_onnx(model, (torch.randn(2, 3, size, size),), path, mode, ['image'], ['logits'],
                    {'image': {0: 'batch', 2: 'height', 3: 'width'}, 'logits': {0: 'batch'}})
        rows[f'{ORT}, {mode} export'] = (
            lambda images, s=session(path, mode): s.run(None, {'image': images.numpy()})[0])
    package = export_pt2(model, torch.randn(2, 3, size, size), os.path.join(folder, 'm.pt2'))
    rows['.pt2 package (AOTInductor)'] = load_pt2(package)
    return rows, decomposed


def whole_model_rows(task, size, folder):
    """{row name: callable on a list of HxWx3 uint8 images}, the first the baseline."""
    from internimage.deploy.export import export_model
    from internimage.engine import load_config
    from mmengine.registry import MODELS, DefaultScope
    cfg = load_config(CONFIGS[task])
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (size, size)
    cfg.model.backbone.init_cfg = None
    checkpoint = os.path.join(folder, 'model.pth')
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        state = MODELS.build(copy.deepcopy(cfg.model)).state_dict()  # PyTorch's initial weights
    torch.save({'state_dict': state, 'meta': {}}, checkpoint)
    if task == 'detection':
        from mmdet.apis import inference_detector, init_detector
        model = init_detector(copy.deepcopy(cfg), checkpoint, device='cpu')
        rows = {'mmdet inference_detector': lambda images: inference_detector(model, images)}
    else:
        from mmseg.apis import inference_model, init_model
        model = init_model(copy.deepcopy(cfg), checkpoint, device='cpu')
        rows = {'mmseg inference_model': lambda images: inference_model(model, images)}
    for mode in ('portable', 'custom'):
        path = os.path.join(folder, f'{mode}.onnx')
        export_model(cfg, checkpoint, path, mode, torch.randint(0, 256, (2, 3, size, size))
                     .float())
        rows[f'{ORT}, {mode} export'] = (
            lambda images, s=session(path, mode): s.run(None, {'image': np.stack(
                [image.transpose(2, 0, 1) for image in images]).astype(np.float32)}))
    return rows


def markdown_table(header, rows):
    lines = [header, ['---'] * len(header), *rows]
    return '\n'.join('| ' + ' | '.join(cells) + ' |' for cells in lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--task', choices=('classification', 'detection', 'segmentation'),
                        default='classification')
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--size', type=int, default=None,
                        help='image side (default 224 for classification, 320 otherwise)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=10)
    args = parser.parse_args()
    size = args.size or (224 if args.task == 'classification' else 320)
    print(f'torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, '
          f'{torch.get_num_threads()} threads, InternImage-T {args.task}, {size}x{size}, '
          'median of interleaved timed calls after warm-up')
    table = []
    with tempfile.TemporaryDirectory() as folder:
        if args.task == 'classification':
            models, decomposed = classifier_rows(size, folder)
            form = dcnv3_export_form(decomposed, 'portable')
        else:
            models, form = whole_model_rows(args.task, size, folder), None
        baseline = next(iter(models))
        with form or torch.no_grad():
            for batch in args.batch:
                if args.task == 'classification':
                    images = torch.randn(batch, 3, size, size)
                else:
                    generator = np.random.default_rng(batch)
                    images = [generator.integers(0, 256, (size, size, 3), dtype=np.uint8)
                              for _ in range(batch)]
                seconds = interleaved_seconds(models, images, args.warmup,
                                              {name: args.repeat for name in models})
                table += [(str(batch), name, f'{seconds[name] * 1e3:.0f}',
                           f'{batch / seconds[name]:.2f}',
                           f'{seconds[baseline] / seconds[name]:.2f}x') for name in models]
    print()
    print(markdown_table(('batch', 'runtime', 'ms / batch', 'images/s', f'speed vs {baseline}'),
                         table))


if __name__ == '__main__':
    main()
