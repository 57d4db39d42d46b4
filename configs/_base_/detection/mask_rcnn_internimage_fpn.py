# Mask R-CNN + FPN (mmdet's) on an InternImage backbone with the settings shared by the published
# detection configs of T..XL: layer scale 1.0, LN, all four levels to the FPN. A config adds
# the variant (channels, depths, groups, drop path, post_norm, offset_scale), the pretrained
# checkpoint and the FPN's in_channels.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='InternImage',
        core_op='DCNv3',
        mlp_ratio=4.0,
        norm_layer='LN',
        layer_scale=1.0,
        out_indices=(0, 1, 2, 3),
        with_cp=False))
