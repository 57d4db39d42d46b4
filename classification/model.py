"""The classification model mmengine's Runner trains: an InternImage classifier with timm's
Mixup/CutMix and soft-target / label-smoothing losses, in mmengine's BaseModel interface
(``mode`` = 'loss', 'predict' or 'tensor'). ``inputs`` is an image batch, or a list whose first
entry is the image batch for a classifier that takes more (classification.inat's meta-data
classifier: images, dates, places)."""
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.registry import MODELS
from timm.data import Mixup
from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy


def build_loss(mixup, label_smoothing):
    """timm's loss for the targets the model trains on: Mixup/CutMix produce soft targets (with
    the smoothing already folded in), plain labels get label smoothing or cross entropy."""
    if mixup is not None:
        return SoftTargetCrossEntropy()
    if label_smoothing > 0:
        return LabelSmoothingCrossEntropy(smoothing=label_smoothing)
    return nn.CrossEntropyLoss()


@MODELS.register_module()
class ImageClassificationModel(BaseModel):
    """``classifier``: config of the network (e.g. ``InternImageClassifier``), kept as the
    attribute ``classifier`` (checkpoints name its weights ``classifier.*``). ``mixup``: keyword
    arguments of ``timm.data.Mixup`` (``num_classes`` and ``label_smoothing`` included) or None."""

    def __init__(self, classifier, mixup=None, label_smoothing=0.0, data_preprocessor=None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.classifier = MODELS.build(classifier)
        self.mixup = Mixup(**mixup) if mixup else None
        self.loss = build_loss(self.mixup, label_smoothing)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'tensor':
            return self.classifier(inputs)
        if data_samples is None:
            raise ValueError(f"mode '{mode}' needs the labels (data_samples)")
        images = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        labels = torch.as_tensor(data_samples, device=images.device)
        if mode == 'loss':
            targets = labels
            if self.mixup is not None:
                if images is not inputs:
                    raise ValueError('Mixup/CutMix mixes image batches only, not a classifier '
                                     'input of several parts')
                if inputs.shape[0] % 2:
                    raise ValueError(f'Mixup/CutMix needs an even batch size, got '
                                     f'{inputs.shape[0]} (set drop_last=True in the train loader)')
                inputs, targets = self.mixup(inputs, labels)
            return dict(loss=self.loss(self.classifier(inputs), targets))
        if mode == 'predict':
            scores = self.classifier(inputs).float().softmax(-1)
            return [dict(pred_score=score, pred_label=int(score.argmax()), gt_label=int(label))
                    for score, label in zip(scores, labels)]
        raise ValueError(f"unknown mode '{mode}' (expected 'loss', 'predict' or 'tensor')")
