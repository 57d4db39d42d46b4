"""What mmseg 1.x lacks for InternImage segmentation. Importing the package (configs:
``custom_imports=dict(imports=['classification', 'segmentation'])``) registers in mmseg's
DATASETS the embedded demo's ``ShapesSegDataset``; the backbone (``InternImage``) and the
layer-decay optimizer constructor come from ``classification`` through mmengine's root
registries. UperNet, the FCN auxiliary head, Mask2Former, IoUMetric and SegLocalVisualizer are
mmseg's own.

``segmentation.demo_data.generate`` writes the demo data; ``segmentation.visualize`` draws a
result for ``tools/image_demo.py``."""
from .demo_data import CLASSES, generate
from .shapes_dataset import ShapesSegDataset

__all__ = ['CLASSES', 'generate', 'ShapesSegDataset']
