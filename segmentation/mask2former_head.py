"""mmseg 1.2's Mask2Former head with the published InternImage test-time scores.

The published head (segmentation/mmseg_custom/models/decode_heads/mask2former_head.py,
``forward_test``, and the segmentor's ``encode_decode``) forms the per-pixel class scores,
softmax without the no-object class times sigmoid masks, at the mask features' 1/4 resolution
and then resizes the scores bilinearly to the input; mmseg 1.2 resizes the mask logits first
and takes their sigmoid at full resolution, which gives other scores (about 40% of the
largest score apart on random weights, tests/test_published_mask2former.py). Training and every
layer's logits are mmseg's.
"""
import torch
import torch.nn.functional as F
from mmseg.models.decode_heads import Mask2FormerHead
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


@MODELS.register_module()
class InternImageMask2FormerHead(Mask2FormerHead):
    """Mask2FormerHead whose ``predict`` resizes the scores, not the mask logits (above)."""

    def predict(self, x, batch_img_metas, test_cfg):
        samples = [SegDataSample(metainfo=metainfo) for metainfo in batch_img_metas]
        all_cls_scores, all_mask_preds = self(x, samples)
        scores = torch.einsum('bqc,bqhw->bchw', F.softmax(all_cls_scores[-1], dim=-1)[..., :-1],
                              all_mask_preds[-1].sigmoid())
        size = batch_img_metas[0].get('pad_shape', batch_img_metas[0]['img_shape'])
        return F.interpolate(scores, size=size, mode='bilinear', align_corners=self.align_corners)
