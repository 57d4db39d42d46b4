"""ONNX export of models holding DCNv3 (or DCNv4) modules, in one of three forms of the op:

- ``portable``: the grid_sample decomposition of ``reference.py`` over the whole batch, which
  traces into standard ONNX ops (GridSample, opset >= 16) that ONNX Runtime runs as it is;
- ``plugin``: one ``mmdeploy::TRTDCNv3`` node with the published TensorRT plugin's inputs and
  attributes (docs/operator.md, "Arguments"), for runtimes that implement that plugin;
- ``custom``: one ``ai.onnx.contrib::DCNv3`` (or ``DCNv4``) node with the same attributes, which
  ONNX Runtime runs through onnxruntime-extensions' Python ops calling our compiled op
  (``onnxruntime_ops.py``).

Export uses torch.onnx's TorchScript exporter (``dynamo=False``): the torch.export-based one needs
onnxscript, takes some 30x longer on a small model, and its shape guards refuse dynamic image sizes
below 33 pixels (where the last level's map would be 1x1).
"""
import contextlib
import dataclasses
import warnings

import torch

from .functional import dcnv3_op, dcnv4_op
from .modules import DCNv3, DCNv4
from .reference import dcnv3_sample, dcnv4_sample, split_offset_mask

OPSET_VERSION = 17  # GridSample needs 16, LayerNormalization 17
PLUGIN_DOMAIN = 'mmdeploy'
PLUGIN_OP_TYPE = 'TRTDCNv3'
CUSTOM_DOMAIN = 'ai.onnx.contrib'  # onnxruntime-extensions' domain of custom Python ops
PLUGIN_FLOAT_ATTRIBUTES = frozenset({'offset_scale'})  # the others are ints


def plugin_attributes(geometry):
    """The plugin's attributes: the geometry's flat arguments under their published names, with
    the TorchScript exporter's type suffixes (the ONNX attribute is the name without its suffix:
    kernel_h_i is the int attribute kernel_h)."""
    attributes = {}
    for name, value in geometry.named_args().items():
        if name in PLUGIN_FLOAT_ATTRIBUTES:
            attributes[f'{name}_f'] = float(value)
        else:
            attributes[f'{name}_i'] = int(value)  # remove_center as 0/1
    return attributes


class _OpNode(torch.autograd.Function):
    """Computes ``op(*tensors, geometry)`` in PyTorch while the exporter traces it (no backward:
    export only) and writes one node ``op_type`` (domain::name) on the tensors in its place."""

    @staticmethod
    def forward(ctx, op, geometry, op_type, *tensors):
        return op(*tensors, geometry)

    @staticmethod
    def symbolic(g, op, geometry, op_type, *tensors):
        output = g.op(op_type, *tensors, **plugin_attributes(geometry))
        return output.setType(tensors[0].type().with_sizes([None] * 4))


def dcnv3_plugin(input, offset, mask, geometry):
    return _OpNode.apply(dcnv3_op, geometry, f'{PLUGIN_DOMAIN}::{PLUGIN_OP_TYPE}', input, offset,
                         mask)


def dcnv4_plugin(input, offset_mask, geometry):
    """DCNv4 written as the DCNv3 plugin node on the offsets and mask values offset_mask holds
    (the same values; there is no DCNv4 plugin): the export of DCNv3 modules with
    use_dcn_v4_op."""
    offset, mask = split_offset_mask(offset_mask, geometry)
    return dcnv3_plugin(input, offset, mask, dataclasses.replace(geometry, op='dcnv3'))


def dcnv3_custom(input, offset, mask, geometry):
    return _OpNode.apply(dcnv3_op, geometry, f'{CUSTOM_DOMAIN}::DCNv3', input, offset, mask)


def dcnv4_custom(input, offset_mask, geometry):
    return _OpNode.apply(dcnv4_op, geometry, f'{CUSTOM_DOMAIN}::DCNv4', input, offset_mask)


# Per module class and form: the module attributes to swap and what to put there. The modules
# call core_op(input, offset, mask, geometry), and DCNv3 modules with use_dcn_v4_op (and DCNv4
# modules) core_op_v4 / core_op(input, offset_mask, geometry). The portable form is the
# reference in one chunk (dcnv3_sample, dcnv4_sample), so that the trace keeps the batch size
# dynamic. DCNv4 modules have no plugin form: the published release has no TensorRT plugin for
# DCNv4.
EXPORT_OPS = {
    DCNv3: {'portable': {'core_op': dcnv3_sample, 'core_op_v4': dcnv4_sample},
            'plugin': {'core_op': dcnv3_plugin, 'core_op_v4': dcnv4_plugin},
            'custom': {'core_op': dcnv3_custom, 'core_op_v4': dcnv4_custom}},
    DCNv4: {'portable': {'core_op': dcnv4_sample}, 'custom': {'core_op': dcnv4_custom}},
}
EXPORT_MODES = ('portable', 'plugin', 'custom')
CUSTOM_OPSETS = {'plugin': {PLUGIN_DOMAIN: 1}, 'custom': {CUSTOM_DOMAIN: 1}}


@contextlib.contextmanager
def dcnv3_export_form(model, mode):
    """Routes every DCNv3 and DCNv4 module of ``model`` through the export form ``mode`` while
    inside."""
    if mode not in EXPORT_MODES:
        raise ValueError(f"unknown DCNv3 export mode '{mode}' (expected one of "
                         f'{sorted(EXPORT_MODES)})')
    modules = [(m, forms) for m in model.modules() for kind, forms in EXPORT_OPS.items()
               if isinstance(m, kind)]
    if not modules:
        raise ValueError(f'{type(model).__name__} holds no DCNv3 or DCNv4 module to export')
    for module, forms in modules:
        if mode not in forms:
            raise ValueError(f"{type(module).__name__} modules have no '{mode}' export form "
                             f'(only {sorted(forms)})')
    for module, forms in modules:
        for attribute, op in forms[mode].items():
            setattr(module, attribute, op)
    try:
        yield model
    finally:
        for module, forms in modules:
            for attribute in forms[mode]:
                delattr(module, attribute)  # back to the class's op


def export_onnx(model, example_inputs, path, mode='portable', input_names=None,
                output_names=None, dynamic_axes=None):
    """Writes ``model`` (evaluated on ``example_inputs``, a tuple) to the ONNX file ``path`` with
    its DCNv3 modules in form ``mode``; ``dynamic_axes`` as in ``torch.onnx.export``."""
    with dcnv3_export_form(model, mode), torch.no_grad(), warnings.catch_warnings():
        # The legacy exporter announces its deprecation; the trace warns about the shape checks
        # of the modules, which hold for every input the exported graph is meant for.
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(model, example_inputs, path, dynamo=False, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes,
                          opset_version=OPSET_VERSION,
                          custom_opsets=CUSTOM_OPSETS.get(mode))
