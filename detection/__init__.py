"""What mmdet 3.3 lacks for the InternImage detectors. Importing the package (configs:
``custom_imports=dict(imports=['classification', 'detection'])``) registers in mmdet's MODELS
the composite backbone ``CBInternImage`` and the detector ``CBDINO`` of the CB-InternImage-H
DINO system. The InternImage backbone itself and the layer-wise lr decay constructor come from
``classification`` (mmengine's root registries, which mmdet's search). Tools live in
``detection.demo_data`` (the embedded COCO-format data set) and ``detection.visualize``
(pictures of a detector's results)."""
from .cb_dino import CBDINO
from .cb_internimage import CBInternImage

__all__ = ['CBDINO', 'CBInternImage']
