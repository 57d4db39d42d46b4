"""ImageNet-style classification on mmengine's Runner: data (folder layout or file list, timm's
transforms), the trained model (Mixup/CutMix, soft-target losses), top-k accuracy, result
pictures, and the ``Predictor`` for users without configs. Importing it registers in mmengine's
root registries the dataset ``ImageClassificationDataset``, the model
``ImageClassificationModel``, the metric ``TopKAccuracy`` and the hook
``ClassificationVisualizationHook`` (configs: ``custom_imports=dict(imports=
['internimage.models', 'internimage.engine', 'classification'])``)."""
from .data import ImageClassificationDataset
from .inference import Predictor
from .metrics import TopKAccuracy
from .model import ImageClassificationModel
from .visualization import ClassificationVisualizationHook

__all__ = ['ImageClassificationDataset', 'Predictor', 'TopKAccuracy', 'ImageClassificationModel',
           'ClassificationVisualizationHook']
