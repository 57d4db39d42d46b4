"""Exports the whole detector or segmentor of a config to ONNX: the loaded image in, the results
for that image out (``graphs.py``), with dynamic batch and image size, and the facts a runtime
needs (task, classes, output names) in the file's metadata."""
import copy
import importlib
import json

import torch
from mmengine.registry import DefaultScope

from internimage.engine.errors import UsageError
from internimage.engine.launch import read_tool_checkpoint
from internimage.engine.released import model_shapes, weights_for
from internimage.engine.tasks import task_of
from internimage.models.checkpoint import fit_report
from internimage.models.conversion import ConversionError
from ops_dcnv3.onnx import OPSET_VERSION, dcnv3_export_form

from .graphs import DetectorGraph, SegmentorGraph, dynamic_adaptive_pooling
from .mmdeploy_stack import deploy_config, detector_rewriting
from .preprocess import ImagePreprocess
from .runtime import METADATA_PREFIX

IMAGE_AXES = {0: 'batch', 2: 'height', 3: 'width'}
OUTPUTS = {
    'detection': ('boxes', 'scores', 'labels'),
    'instance_segmentation': ('boxes', 'scores', 'labels', 'masks'),
    'segmentation': ('label_map',),
}
OUTPUT_AXES = {
    'boxes': {0: 'batch', 1: 'detections'}, 'scores': {0: 'batch', 1: 'detections'},
    'labels': {0: 'batch', 1: 'detections'},
    'masks': {0: 'batch', 1: 'detections', 2: 'height', 3: 'width'},
    'label_map': {0: 'batch', 1: 'height', 2: 'width'},
}


def checkpoint_weights(cfg, path):
    """(state dict for the config's model, dataset meta or None) from our checkpoint or a
    published release (converted); one that leaves weights unset or of the wrong shape is
    refused, naming them."""
    checkpoint = read_tool_checkpoint(path, mmap=True)
    ours = checkpoint.get('state_dict', {}) if isinstance(checkpoint, dict) else {}
    shapes = model_shapes(cfg)
    try:
        state_dict, plan = weights_for(cfg, checkpoint)
    except (ConversionError, KeyError, ValueError) as error:
        if not shapes.keys() & ours.keys():
            raise UsageError(f'{path}: neither a checkpoint of this model nor a release that '
                             f'converts into it: {error}') from None
        plan = None  # our layout with entries missing or extra: said below
    if plan is not None:
        return state_dict, None
    report = fit_report(shapes, ours)
    if not report.clean:
        raise UsageError(f'{path} does not fit the model of the config: {report.describe()}')
    return ours, (checkpoint.get('meta') or {}).get('dataset_meta')


def class_names(cfg, meta):
    """The classes a checkpoint was trained with, else the config's test set's."""
    if meta and meta.get('classes'):
        return list(meta['classes'])
    dataset = cfg.test_dataloader.dataset
    dataset = dataset.get('dataset', dataset)  # wrappers
    if (dataset.get('metainfo') or {}).get('classes'):
        return list(dataset.metainfo.classes)
    registry = importlib.import_module(f'{cfg.default_scope}.registry').DATASETS
    return list(registry.get(dataset.type).METAINFO['classes'])


def build_model(cfg, checkpoint):
    from mmengine.registry import MODELS
    from mmengine.model import revert_sync_batchnorm
    state_dict, meta = checkpoint_weights(cfg, checkpoint)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = revert_sync_batchnorm(MODELS.build(copy.deepcopy(cfg.model)))  # DETRs edit it
    model.load_state_dict(state_dict, strict=True)
    return model.eval(), class_names(cfg, meta)


def model_graph(cfg, model, example_batch):
    """(graph module, kind) of a detection or segmentation config's model."""
    task = task_of(cfg).name
    if task == 'segmentation':
        if cfg.model.type != 'EncoderDecoder':
            raise UsageError(f'model type {cfg.model.type} cannot be exported (EncoderDecoder '
                             'only; a test-time augmentation config exports as its plain '
                             'counterpart)')
        return SegmentorGraph(model, ImagePreprocess.from_config(cfg, None)), 'segmentation'
    if task == 'detection':
        graph = DetectorGraph(model, ImagePreprocess.from_config(cfg, 'pad_size_divisor'),
                              example_batch)
        return graph, 'instance_segmentation' if graph.with_masks else 'detection'
    raise UsageError(f'whole-model export covers detection and segmentation configs, not '
                     f'{task} (tools/export.py exports classifiers itself)')


def write_metadata(path, metadata):
    import onnx
    model = onnx.load(path)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = METADATA_PREFIX + key, json.dumps(value)
    onnx.save(model, path)


def export_model(cfg, checkpoint, out, mode='portable', example_images=None):
    """Writes the whole model of ``cfg`` (a loaded Config) with ``checkpoint``'s weights to
    ``out``; returns (graph module, metadata). ``example_images``: the traced batch (N, 3, H, W,
    0-255; default two random 320x480 images)."""
    model, classes = build_model(cfg, checkpoint)
    if example_images is None:
        example_images = torch.randint(0, 256, (2, 3, 320, 480), generator=torch.Generator()
                                       .manual_seed(0)).float()
    graph, kind = model_graph(cfg, model, len(example_images))
    graph.eval()
    outputs = OUTPUTS[kind]
    dynamic_axes = dict({name: OUTPUT_AXES[name] for name in outputs}, image=IMAGE_AXES)
    with dcnv3_export_form(model, mode), dynamic_adaptive_pooling(model), torch.no_grad():
        if kind == 'segmentation':
            _trace(graph, example_images, out, outputs, dynamic_axes, mode)
        else:
            deploy_cfg = deploy_config(cfg.model, dynamic_axes, OPSET_VERSION)
            with detector_rewriting(model, deploy_cfg, OPSET_VERSION) as patched:
                graph.detector = patched
                _trace(graph, example_images, out, outputs, dynamic_axes, mode)
    metadata = dict(task=kind, classes=classes, outputs=list(outputs), dcnv3=mode)
    write_metadata(out, metadata)
    return graph, metadata


def _trace(graph, example_images, out, outputs, dynamic_axes, mode):
    import warnings
    from ops_dcnv3.onnx import CUSTOM_OPSETS
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the tracer's notes on shape arithmetic it keeps
        torch.onnx.export(graph, (example_images,), out, dynamo=False, input_names=['image'],
                          output_names=list(outputs), dynamic_axes=dynamic_axes,
                          opset_version=OPSET_VERSION,
                          custom_opsets=CUSTOM_OPSETS.get(mode))
