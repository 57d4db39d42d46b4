"""DCNv3: deformable convolution with shared projections, G groups and softmax-normalised
modulation (InternImage's core operator), and DCNv4, its successor with offsets and mask values
in one tensor and no softmax (FlashInternImage's). One op each, sharing their kernels, compiled
for CPU (and CUDA when built), with a pure-PyTorch reference. docs/operator.md describes the ops,
their arguments and their registration."""
from ._extension import AVAILABLE as EXTENSION_AVAILABLE
from .functional import dcnv3, dcnv4
from .geometry import Geometry
from .modules import (DCNv3, DCNv3_pytorch, DCNv4, DCNv4_pytorch, build_act_layer,
                      build_norm_layer)
from .reference import dcnv3_reference, dcnv4_reference

__all__ = ['EXTENSION_AVAILABLE', 'dcnv3', 'dcnv3_reference', 'dcnv4', 'dcnv4_reference',
           'Geometry', 'DCNv3', 'DCNv3_pytorch', 'DCNv4', 'DCNv4_pytorch', 'build_act_layer',
           'build_norm_layer']
