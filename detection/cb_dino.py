"""CBDINO: mmdet's DINO on a composite backbone (``CBInternImage``), which returns the
assisting and the lead trunk's maps. CBNetV2's assisting supervision: in training the neck and
the whole DINO transformer + head run on both, the assisting branch's losses weighted by
``assist_loss_weight`` (0.5 in the published system) and logged as ``assist.<name>``; inference
and ``mode='tensor'`` use the lead branch only."""
from mmdet.models.detectors import DINO
from mmdet.registry import MODELS


@MODELS.register_module()
class CBDINO(DINO):
    """DINO whose training also supervises the assisting trunk of a composite backbone."""

    def __init__(self, *args, assist_loss_weight=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        if assist_loss_weight < 0:
            raise ValueError(f'assist_loss_weight must be >= 0, got {assist_loss_weight}')
        self.assist_loss_weight = assist_loss_weight

    def backbone_branches(self, batch_inputs):
        """(assisting maps, lead maps) of the composite backbone."""
        branches = self.backbone(batch_inputs)
        if not (isinstance(branches, (tuple, list)) and len(branches) == 2
                and all(isinstance(b, (tuple, list)) for b in branches)):
            raise TypeError(f'CBDINO needs a composite backbone returning (assisting maps, '
                            f'lead maps), such as CBInternImage; '
                            f'{type(self.backbone).__name__} returned something else')
        return branches

    def neck_features(self, maps):
        return self.neck(maps) if self.with_neck else maps

    def extract_feat(self, batch_inputs):
        """The lead branch's features: what inference uses."""
        return self.neck_features(self.backbone_branches(batch_inputs)[1])

    def branch_loss(self, features, batch_data_samples):
        head_inputs = self.forward_transformer(features, batch_data_samples)
        return self.bbox_head.loss(**head_inputs, batch_data_samples=batch_data_samples)

    def loss(self, batch_inputs, batch_data_samples):
        assist, lead = (self.neck_features(maps) for maps in self.backbone_branches(batch_inputs))
        losses = self.branch_loss(lead, batch_data_samples)
        for name, value in self.branch_loss(assist, batch_data_samples).items():
            if 'loss' in name:
                value = value * self.assist_loss_weight
            losses[f'assist.{name}'] = value
        return losses
