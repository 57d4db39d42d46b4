"""ImageNet-style classification on mmengine's Runner: data (folder layout or file list, timm's
transforms), the trained model (Mixup/CutMix, soft-target losses), top-k accuracy, result
pictures, the published recipes' optimizer groups and lr schedule, iNaturalist 2018 with its
meta-data classifier, and the ``Predictor`` for users without configs. Importing it registers in
mmengine's root registries the datasets ``ImageClassificationDataset`` and
``INaturalist2018Dataset``, the models ``ImageClassificationModel`` and
``InternImageMetaClassifier``, the metric ``TopKAccuracy``, the hook
``ClassificationVisualizationHook``, the optimizer-wrapper constructor
``ClassificationLayerDecayConstructor``, the lr scheduler ``TimmCosineLR`` and the model wrapper
``FP16CompressedDDP`` (configs:
``custom_imports=dict(imports=['internimage.models', 'internimage.engine',
'classification'])``)."""
from .data import ImageClassificationDataset
from .ddp import FP16CompressedDDP
from .inat import INaturalist2018Dataset, InternImageMetaClassifier
from .inference import Predictor
from .layer_decay import ClassificationLayerDecayConstructor
from .metrics import TopKAccuracy
from .model import ImageClassificationModel
from .schedule import TimmCosineLR
from .visualization import ClassificationVisualizationHook

__all__ = ['ImageClassificationDataset', 'INaturalist2018Dataset', 'InternImageMetaClassifier',
           'Predictor', 'ClassificationLayerDecayConstructor', 'TopKAccuracy',
           'ImageClassificationModel', 'TimmCosineLR', 'ClassificationVisualizationHook',
           'FP16CompressedDDP']
