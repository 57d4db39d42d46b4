"""What mmseg 1.x lacks for InternImage segmentation. Importing the package (configs:
``custom_imports=dict(imports=['internimage.models', 'internimage.engine',
'segmentation'])``) registers in mmseg's DATASETS the embedded demo's ``ShapesSegDataset``
and the published NYU Depth V2 40-class ``NYUDepthV2Dataset``, in TRANSFORMS
``MapillaryToCityscapes`` (the published Mapillary -> Cityscapes label mapping), and in MODELS
``InternImageMask2FormerHead`` (mmseg's Mask2Former head with the published test-time
scores), and in mmdet's MODELS ``UnnormalizedMSDeformAttnPixelDecoder`` (the pixel decoder
of the FlashInternImage "nsmx" recipe: deformable attention without its softmax); the backbone
(``InternImage``) comes from ``internimage.models`` and the layer-decay optimizer constructor
from ``internimage.engine`` through mmengine's root registries. UperNet, the FCN auxiliary head, Mask2Former's layers, IoUMetric and
SegLocalVisualizer are mmseg's own.

The demo data is written by ``internimage.demo_data.segmentation``; ``segmentation.visualize``
draws a result for ``tools/image_demo.py``."""
from .mapillary import MapillaryToCityscapes
from .mask2former_head import InternImageMask2FormerHead
from .no_softmax_attention import UnnormalizedMSDeformAttnPixelDecoder
from .nyu_depth_v2 import NYUDepthV2Dataset
from .shapes_dataset import ShapesSegDataset

__all__ = ['InternImageMask2FormerHead', 'MapillaryToCityscapes', 'NYUDepthV2Dataset',
           'ShapesSegDataset', 'UnnormalizedMSDeformAttnPixelDecoder']
