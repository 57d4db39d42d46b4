"""What mmdet 3.3 lacks for the InternImage detectors. Importing the package (configs:
``custom_imports=dict(imports=['internimage.models', 'internimage.engine', 'detection'])``)
registers in mmdet's MODELS the composite backbone ``CBInternImage`` and the detector ``CBDINO``
of the CB-InternImage-H DINO system, the neck ``FPN_vitdet`` of the FlashInternImage recipes,
and in METRICS ``VOCSubmissionWriter`` (the VOC 2012 test
server's result files) and ``LVISNumpy2Metric`` (mmdet's LVISMetric, made to run on numpy 2). The InternImage backbone itself comes from
``internimage.models`` and the layer-wise lr decay constructor from
``internimage.engine`` (mmengine's root registries, which mmdet's search).
``detection.visualize`` draws a detector's results for ``tools/image_demo.py``; the embedded
COCO-format demo data is ``internimage.demo_data.detection``."""
from .cb_dino import CBDINO
from .cb_internimage import CBInternImage
from .fpn_vitdet import FPNViTDet
from .lvis_metric import LVISNumpy2Metric
from .voc_submission import VOCSubmissionWriter

__all__ = ['CBDINO', 'CBInternImage', 'FPNViTDet', 'LVISNumpy2Metric', 'VOCSubmissionWriter']
