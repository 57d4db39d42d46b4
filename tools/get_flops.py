"""Counts the FLOPs and parameters of any of the project's configs (classification, detection,
segmentation) with mmengine's FlopAnalyzer, plus the DCNv3 core op that generic counters miss:

    python tools/get_flops.py CONFIG [--shape H W] [--device cpu|cuda] [--cfg-options K=V ...]

The input is one random image of --shape (default: the size the published numbers use for the
task: 224x224 classification, 800x1280 detection, 512x2048 segmentation). One multiply-add counts
as one FLOP. Counted is the inference forward without post-processing: a classifier's logits,
a detector's or segmentor's raw head outputs (no NMS; no auxiliary head). Elementwise ops
(activations, additions, softmax) have no counter and are listed as not counted."""
import argparse
import inspect
from collections import Counter

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope

import ops_dcnv3
from internimage.engine import load_config, task_of
from internimage.engine.launch import add_config_options, exits_on_usage_error
from ops_dcnv3.flops import DCNV3_OP, add_dcnv3_handle


class TensorForward(nn.Module):
    """The model's inference forward without post-processing as one traceable call of the
    image batch, with the fixed data samples (image meta data) detectors and segmentors need."""

    def __init__(self, model, data_samples=None):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs):
        if self.data_samples is None:  # a classifier: ours takes mode, a bare network not
            if 'mode' in inspect.signature(self.model.forward).parameters:
                return self.model(inputs, mode='tensor')
            return self.model(inputs)
        head = getattr(self.model, 'decode_head', None)
        if head is not None and 'batch_data_samples' in inspect.signature(head.forward).parameters:
            # mmseg's tensor mode calls decode_head.forward(x) without the data samples that
            # Mask2Former's head needs.
            return head(self.model.extract_feat(inputs), self.data_samples)
        return self.model(inputs, self.data_samples, mode='tensor')


def image_data_samples(sample_class, height, width):
    """One data sample whose meta data describe an unscaled, unpadded (height, width) image."""
    if sample_class is None:
        return None
    shape = (height, width)
    return [sample_class(metainfo=dict(
        img_shape=shape, ori_shape=shape, pad_shape=shape, batch_input_shape=shape,
        scale_factor=(1.0, 1.0)))]


def build_model(cfg):
    """The config's model (weights as initialised; pretrained checkpoints are not loaded)."""
    scope = task_of(cfg).scope
    if scope:
        init_default_scope(scope)
    return revert_sync_batchnorm(MODELS.build(cfg.model)).eval()


def count(model, task, height, width, device='cpu'):
    """{'flops', 'dcnv3_flops', 'params', 'by_part' (FLOPs of the model's direct children),
    'not_counted' (op -> calls without a FLOP handle)} for one (height, width) image; by_part
    sums to flops, with what no child took as 'other'."""
    model = model.to(device)
    wrapper = TensorForward(model, image_data_samples(task.data_sample_class(), height, width))
    inputs = torch.randn(1, 3, height, width, device=device)
    analyzer = add_dcnv3_handle(FlopAnalyzer(wrapper, (inputs,)))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        flops = analyzer.total()
        by_module = analyzer.by_module()
        by_operator = analyzer.by_operator()
    by_part = {name: by_module[f'model.{name}'] for name, _ in model.named_children()
               if by_module.get(f'model.{name}', 0) > 0}
    # the tracer leaves some functional calls (e.g. mmseg's resize) in the top-level scope
    other = flops - sum(by_part.values())
    if other:
        by_part['other'] = other
    return dict(flops=flops, dcnv3_flops=by_operator.get(DCNV3_OP.split('::')[-1], 0),
                params=parameter_count(model)[''], by_part=by_part,
                not_counted=Counter(analyzer.unsupported_ops()))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default: per task, see above)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    add_config_options(parser)
    args = parser.parse_args(argv)
    if args.shape and min(args.shape) < 32:
        parser.error(f'--shape must be at least 32x32, got {args.shape}')
    return args


def giga(value):
    return f'{value / 1e9:.2f} G'


@exits_on_usage_error
def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    model = build_model(cfg)
    task = task_of(cfg)
    height, width = args.shape or task.flops_input
    if not ops_dcnv3.EXTENSION_AVAILABLE:
        print('warning: the compiled DCNv3 op is not built; the traced reference op is counted '
              'by generic counters (grid_sample: 4 per sampled value, the mask product missed)')
    result = count(model, task, height, width, args.device)
    print(f'config       {args.config}')
    print(f'input        1 x 3 x {height} x {width}')
    print(f'FLOPs        {giga(result["flops"])}  (DCNv3 core op: '
          f'{giga(result["dcnv3_flops"])}; one multiply-add = one FLOP)')
    print(f'params       {result["params"] / 1e6:.2f} M')
    print('by part      ' + ', '.join(f'{name} {giga(flops)}'
                                      for name, flops in result['by_part'].items()))
    if result['not_counted']:
        print('not counted  ' + ', '.join(f'{op} x{calls}'
                                          for op, calls in result['not_counted'].most_common()))
    return result


if __name__ == '__main__':
    main()
