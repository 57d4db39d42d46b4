"""ONNX Runtime runs the ``custom`` export form (``onnx.py``) with our compiled op: its
``ai.onnx.contrib::DCNv3`` / ``DCNv4`` nodes become onnxruntime-extensions' custom Python ops
that call ``dcnv3_op`` / ``dcnv4_op``. PyPI's onnxruntime wheels ship no C/C++ headers to build a
native custom-op library against; onnxruntime-extensions' prebuilt library hands such nodes to
Python. The price: each call converts the output to a Python list and back (measured in
docs/benchmarks.md, "ONNX Runtime")."""
import functools

import numpy as np
import torch

from .functional import dcnv3_op, dcnv4_op
from .geometry import FLAT_ARGS, Geometry
from .onnx import PLUGIN_FLOAT_ATTRIBUTES


def _geometry(attributes, op):
    attributes = dict(attributes, remove_center=bool(attributes['remove_center']))
    return Geometry.from_args(**attributes, op=op)


def _tensor(array):
    return torch.from_numpy(np.ascontiguousarray(array))


@functools.lru_cache(maxsize=None)
def register_python_ops():
    """Declares the two custom Python ops to onnxruntime-extensions (once per process)."""
    from onnxruntime_extensions import PyCustomOpDef, onnx_op
    attributes = {name: PyCustomOpDef.dt_float if name in PLUGIN_FLOAT_ATTRIBUTES
                  else PyCustomOpDef.dt_int64 for name in FLAT_ARGS}
    tensor = PyCustomOpDef.dt_float

    @onnx_op(op_type='DCNv3', inputs=[tensor] * 3, outputs=[tensor], attrs=attributes)
    def dcnv3_node(input, offset, mask, **values):
        with torch.no_grad():
            return dcnv3_op(_tensor(input), _tensor(offset), _tensor(mask),
                            _geometry(values, 'dcnv3')).numpy()

    @onnx_op(op_type='DCNv4', inputs=[tensor] * 2, outputs=[tensor], attrs=attributes)
    def dcnv4_node(input, offset_mask, **values):
        with torch.no_grad():
            return dcnv4_op(_tensor(input), _tensor(offset_mask),
                            _geometry(values, 'dcnv4')).numpy()


def session_options(options=None):
    """ONNX Runtime SessionOptions (``options`` or new ones) that run the custom nodes."""
    import onnxruntime
    from onnxruntime_extensions import get_library_path
    register_python_ops()
    options = options or onnxruntime.SessionOptions()
    options.register_custom_ops_library(get_library_path())
    return options
