"""DCNv3: deformable convolution with shared projections, G groups and softmax-normalised
modulation (InternImage's core operator). One op, compiled for CPU (and CUDA when built), with a
pure-PyTorch reference. docs/operator.md describes the op, its arguments and its registration."""
from ._extension import AVAILABLE as EXTENSION_AVAILABLE
from .functional import dcnv3
from .geometry import Geometry
from .modules import DCNv3, DCNv3_pytorch, build_act_layer, build_norm_layer
from .reference import dcnv3_reference

__all__ = ['EXTENSION_AVAILABLE', 'dcnv3', 'dcnv3_reference', 'Geometry', 'DCNv3', 'DCNv3_pytorch',
           'build_act_layer', 'build_norm_layer']
