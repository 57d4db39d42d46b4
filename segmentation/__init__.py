"""What mmseg 1.x lacks for InternImage segmentation. Importing the package (configs:
``custom_imports=dict(imports=['classification.models', 'classification.engine',
'segmentation'])``) registers in mmseg's DATASETS the embedded demo's ``ShapesSegDataset``; the
backbone (``InternImage``) comes from ``classification.models`` and the layer-decay optimizer
constructor from ``classification.engine`` through mmengine's root registries. UperNet, the FCN
auxiliary head, Mask2Former, IoUMetric and SegLocalVisualizer are mmseg's own.

The demo data is written by ``classification.demo_data.segmentation``; ``segmentation.visualize``
draws a result for ``tools/image_demo.py``."""
from .shapes_dataset import ShapesSegDataset

__all__ = ['ShapesSegDataset']
