"""What mmseg 1.x lacks for InternImage segmentation. Importing the package (configs:
``custom_imports=dict(imports=['classification.models', 'classification.engine',
'segmentation'])``) registers in mmseg's DATASETS the embedded demo's ``ShapesSegDataset``
and the published NYU Depth V2 40-class ``NYUDepthV2Dataset``, and in TRANSFORMS
``MapillaryToCityscapes`` (the published Mapillary -> Cityscapes label mapping); the backbone
(``InternImage``) comes from ``classification.models`` and the layer-decay optimizer constructor
from ``classification.engine`` through mmengine's root registries. UperNet, the FCN
auxiliary head, Mask2Former, IoUMetric and SegLocalVisualizer are mmseg's own.

The demo data is written by ``classification.demo_data.segmentation``; ``segmentation.visualize``
draws a result for ``tools/image_demo.py``."""
from .mapillary import MapillaryToCityscapes
from .nyu_depth_v2 import NYUDepthV2Dataset
from .shapes_dataset import ShapesSegDataset

__all__ = ['MapillaryToCityscapes', 'NYUDepthV2Dataset', 'ShapesSegDataset']
