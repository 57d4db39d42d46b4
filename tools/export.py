"""Exports the model of a config to ONNX, with dynamic batch and image size:

    python tools/export.py CONFIG CHECKPOINT [--mode portable|plugin|custom] [--out F]
                           [--shape H W] [--backbone] [--format onnx|pt2]

A classification config exports its classifier (normalised image -> logits). A detection or
segmentation config exports the whole model (internimage/deploy): the image as loaded in, its
test-time resize, normalisation and padding, the network and the post-processing (NMS, RoIAlign,
mask pasting, resize of the scores) inside the graph, the results for that image out (boxes,
scores, labels, masks; or the label map). ``--backbone`` exports the InternImage network alone
instead (NCHW feature maps of the levels). The checkpoint may be ours or a published layout.
``--mode portable`` writes DCNv3 as standard ONNX ops and checks the file in ONNX Runtime (the
classifier and backbone against PyTorch at two image sizes; a whole model runs at another size
than it was traced with); ``--mode plugin`` writes one ``mmdeploy::TRTDCNv3`` node per DCNv3
(TensorRT plugin); ``--mode custom`` one ``ai.onnx.contrib::DCNv3`` node that ONNX Runtime
runs with our compiled op. ``--format pt2`` writes the classifier or backbone as a
``torch.export`` + AOTInductor package instead (internimage/deploy/pt2.py), checked against
PyTorch at another batch and image size.
"""
import argparse
import os

import numpy as np
import torch
from mmengine.registry import MODELS

from internimage.engine import load_config
from internimage.engine.errors import UsageError
from internimage.engine.launch import exits_on_usage_error
from internimage.models import load_checkpoint
from internimage.models.variants import HEAD_OPTIONS
from ops_dcnv3.onnx import (CUSTOM_DOMAIN, EXPORT_MODES, PLUGIN_DOMAIN, PLUGIN_OP_TYPE,
                            export_onnx)

EXAMPLE_BATCH = 2
WHOLE_MODEL_SCOPES = ('mmdet', 'mmseg')  # detection and segmentation configs
# Relative tolerance of the ONNX Runtime check, on the largest output magnitude.
PARITY_TOLERANCE = 1e-4


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file (ours or a published layout)')
    parser.add_argument('--mode', choices=sorted(EXPORT_MODES), default='portable',
                        help='portable: DCNv3 as standard ONNX ops (ONNX Runtime); plugin: one '
                             f'{PLUGIN_DOMAIN}::{PLUGIN_OP_TYPE} node (TensorRT plugin); custom: '
                             f'one {CUSTOM_DOMAIN}::DCNv3 node that ONNX Runtime runs with our '
                             'compiled op (onnxruntime-extensions)')
    parser.add_argument('--out', help='output file (default: next to the checkpoint, '
                                      '<checkpoint>_<mode>.onnx or <checkpoint>.pt2)')
    parser.add_argument('--format', choices=('onnx', 'pt2'), default='onnx',
                        help='pt2: a torch.export + AOTInductor package of the classifier or '
                             'backbone, running our registered op (no ONNX)')
    parser.add_argument('--shape', type=int, nargs=2, default=(224, 224), metavar=('H', 'W'),
                        help='image size of the example input (the file takes any size)')
    parser.add_argument('--backbone', action='store_true',
                        help='export the InternImage network alone (the feature maps of the '
                             'levels) instead of the classifier, detector or segmentor')
    return parser.parse_args(argv)


def internimage_config(model_cfg, backbone=False):
    """(kind, config) of the InternImage network in a config's ``model``: kind 'classifier' or
    'backbone'. ``backbone`` turns a classifier into the dense backbone of its trunk."""
    model_cfg = dict(model_cfg)
    if model_cfg.get('type') == 'ImageClassificationModel':
        model_cfg = dict(model_cfg['classifier'])
    elif isinstance(model_cfg.get('backbone'), dict):
        model_cfg = dict(model_cfg['backbone'])
    if model_cfg.get('type') == 'InternImageClassifier':
        if not backbone:
            return 'classifier', model_cfg
        trunk = {k: v for k, v in model_cfg.items() if k not in HEAD_OPTIONS}
        return 'backbone', dict(trunk, type='InternImage')
    if model_cfg.get('type') == 'InternImage':
        return 'backbone', model_cfg
    raise ValueError(f"the config's model has no InternImage network to export (model or "
                     f"backbone type {model_cfg.get('type')!r}; expected InternImageClassifier, "
                     'InternImage, or a model holding one as classifier or backbone)')


def build_network(kind, model_cfg, checkpoint):
    """The network in eval mode with the checkpoint's weights; a checkpoint that leaves weights
    missing or of the wrong shape is refused rather than exported with random ones."""
    network = MODELS.build(model_cfg)
    report = load_checkpoint(network, checkpoint)
    if report.missing or report.mismatched:
        hint = ' (a backbone checkpoint? add --backbone)' if kind == 'classifier' else ''
        raise ValueError(f'checkpoint {checkpoint} does not fit the {kind}{hint}: '
                         f'{report.describe()}')
    return network.eval()


def io_names(kind, network):
    """Input and output names with their dynamic axes."""
    image = {0: 'batch', 2: 'height', 3: 'width'}
    if kind == 'classifier':
        return ['image'], ['logits'], {'image': image, 'logits': {0: 'batch'}}
    outputs = [f'level{i}' for i in network.out_indices]
    dynamic = {name: {0: 'batch', 2: f'{name}_height', 3: f'{name}_width'} for name in outputs}
    return ['image'], outputs, dict(dynamic, image=image)


def onnxruntime_session(path, mode):
    """An ONNX Runtime session of an exported file (with our custom ops for mode 'custom')."""
    import onnxruntime
    options = None
    if mode == 'custom':
        from ops_dcnv3.onnxruntime_ops import session_options
        options = session_options()
    return onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def relative_difference(found, expected):
    """Largest difference of ``found`` from ``expected`` (a tensor or a list of them, the
    network's outputs), relative to the largest expected value."""
    expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
    found = [found] if isinstance(found, torch.Tensor) else list(found)
    scale = max(float(e.abs().max()) for e in expected)
    return max(float((torch.as_tensor(f) - e).abs().max()) for f, e in zip(found, expected)) / \
        scale


def onnxruntime_difference(path, network, images, mode='portable'):
    """The ONNX Runtime outputs' relative_difference from PyTorch's."""
    session = onnxruntime_session(path, mode)
    ours = session.run(None, {session.get_inputs()[0].name: images.numpy()})
    with torch.no_grad():
        return relative_difference(ours, network(images))


def check_plugin_nodes(path):
    """Number of plugin nodes in a valid ONNX file."""
    import onnx
    model = onnx.load(path)
    onnx.checker.check_model(model)
    return sum(n.domain == PLUGIN_DOMAIN and n.op_type == PLUGIN_OP_TYPE for n in model.graph.node)


def say(step):
    """A step of the export, as it starts (tracing and checking take minutes on big models)."""
    print(f'[export] {step}', flush=True)


def export_whole_model(cfg, checkpoint, out, mode, shape):
    """Exports a detector or segmentor; returns the check's line: the file run in ONNX Runtime
    on an image of another size than the traced one."""
    from internimage.deploy.export import export_model
    height, width = shape
    say(f'tracing the whole model into {out}')
    _, metadata = export_model(cfg, checkpoint, out, mode, torch.randint(
        0, 256, (EXAMPLE_BATCH, 3, height, width), generator=torch.Generator().manual_seed(0))
        .float())
    if mode == 'plugin':
        nodes = check_plugin_nodes(out)
        return f'{metadata["task"]}: {nodes} {PLUGIN_DOMAIN}::{PLUGIN_OP_TYPE} nodes'
    say('running the file in ONNX Runtime')
    session = onnxruntime_session(out, mode)
    image = np.random.default_rng(0).integers(0, 256, (1, 3, height + 32, width + 64))
    outputs = session.run(None, {'image': image.astype(np.float32)})
    shapes = ', '.join(f'{name} {tuple(o.shape)}' for name, o in zip(metadata['outputs'],
                                                                       outputs))
    return f'{metadata["task"]}, {len(metadata["classes"])} classes; ONNX Runtime on a ' \
           f'{height + 32}x{width + 64} image: {shapes}'


def export_package(network, out, shape):
    """Writes the .pt2 package; returns the check's line: the package against PyTorch at
    another batch and image size."""
    from internimage.deploy.pt2 import export_pt2, load_pt2
    height, width = shape
    say(f'compiling the .pt2 package {out} (AOTInductor: minutes)')
    export_pt2(network, torch.randn(EXAMPLE_BATCH, 3, height, width), out)
    images = torch.randn(1, 3, height + 32, width + 64)
    with torch.no_grad():
        difference = relative_difference(load_pt2(out)(images), network(images))
    if difference > PARITY_TOLERANCE:
        raise RuntimeError(f'the package differs from PyTorch by {difference:.1e} (relative)')
    return (f'the package matches PyTorch (largest relative difference {height + 32}x'
            f'{width + 64}: {difference:.1e})')


def export(config, checkpoint, out, mode='portable', shape=(224, 224), backbone=False,
           package=False):
    """Exports the config's model (or, ``backbone``, its InternImage network; ``package``: as a
    .pt2 package) and checks the file; returns the check's line."""
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint}')
    cfg = load_config(config)
    whole = not backbone and cfg.get('default_scope') in WHOLE_MODEL_SCOPES
    if package and mode != 'portable':
        raise UsageError(f'--mode {mode} is a form of the ONNX file; a .pt2 package runs the '
                         'registered op itself')
    if whole and package:
        raise UsageError('--format pt2 covers the classifier and the backbone (--backbone): '
                         "torch.export cannot trace mmdet's and mmseg's test paths (their "
                         'shapes depend on the data: NMS, per-image loops)')
    if whole:
        return export_whole_model(cfg, checkpoint, out, mode, shape)
    kind, model_cfg = internimage_config(cfg.model, backbone)
    say(f'building the {kind} with the weights of {checkpoint}')
    network = build_network(kind, model_cfg, checkpoint)
    if package:
        return export_package(network, out, shape)
    input_names, output_names, dynamic_axes = io_names(kind, network)
    height, width = shape
    say(f'tracing into {out}')
    export_onnx(network, (torch.randn(EXAMPLE_BATCH, 3, height, width),), out, mode,
                input_names, output_names, dynamic_axes)
    if mode == 'plugin':
        return f'{check_plugin_nodes(out)} {PLUGIN_DOMAIN}::{PLUGIN_OP_TYPE} nodes'
    say('checking the file in ONNX Runtime against PyTorch')
    differences = {size: onnxruntime_difference(out, network, torch.randn(batch, 3, *size),
                                                mode)
                   for batch, size in ((EXAMPLE_BATCH, (height, width)),
                                       (1, (height + 32, width + 64)))}
    text = ', '.join(f'{h}x{w}: {d:.1e}' for (h, w), d in differences.items())
    if max(differences.values()) > PARITY_TOLERANCE:
        raise RuntimeError(f'ONNX Runtime differs from PyTorch beyond {PARITY_TOLERANCE} '
                           f'(relative): {text}')
    return f'ONNX Runtime matches PyTorch (largest relative difference {text})'


@exits_on_usage_error
def main(argv=None):
    args = parse_args(argv)
    stem = os.path.splitext(args.checkpoint)[0]
    out = args.out or (f'{stem}.pt2' if args.format == 'pt2' else f'{stem}_{args.mode}.onnx')
    try:
        check = export(args.config, args.checkpoint, out, args.mode, args.shape, args.backbone,
                       args.format == 'pt2')
    except (FileNotFoundError, ValueError, UsageError) as error:
        raise SystemExit(f'export: {error}')
    print(f'saved {out}: {check}')


if __name__ == '__main__':
    main()
