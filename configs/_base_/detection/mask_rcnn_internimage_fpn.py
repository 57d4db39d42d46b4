# Mask R-CNN + FPN (mmdet's) on an InternImage backbone with the setting the published detection
# configs of T..XL change from the variant table: layer scale 1.0 (all four levels go to the
# FPN). A config adds the variant (arch), its drop path, the pretrained checkpoint and the FPN's
# in_channels (level_channels of the arch).
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

model = dict(
    backbone=dict(_delete_=True, type='InternImage', layer_scale=1.0))
