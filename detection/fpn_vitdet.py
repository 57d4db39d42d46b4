"""``FPN_vitdet``: the neck of the published FlashInternImage Mask R-CNN and Cascade recipes
(OpenGVLab/DCNv4, detection/mmdet_custom/models/necks/fpn.py), mmdet's FPN whose convolutions
are each followed by a LayerNorm over the channels of every pixel (its ``ConvModule_Norm``, "for
stable training" as its configs say), with the state-dict names of mmdet's ConvModule
(``lateral_convs.0.conv.weight``, ``lateral_convs.0.ln.weight``)."""
import torch.nn as nn
from mmdet.models.necks import FPN
from mmdet.registry import MODELS


class ChannelsLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map, as the published ConvModule_Norm applies its
    'LN' (a plain LayerNorm there would normalise over the width)."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).contiguous()


def as_channels_norm(norm):
    """A ChannelsLayerNorm holding ``norm``'s parameters (and their requires_grad)."""
    channel_norm = ChannelsLayerNorm(norm.normalized_shape, eps=norm.eps,
                                     elementwise_affine=norm.elementwise_affine)
    channel_norm.load_state_dict(norm.state_dict())
    for new, old in zip(channel_norm.parameters(), norm.parameters()):
        new.requires_grad_(old.requires_grad)
    return channel_norm


@MODELS.register_module(name='FPN_vitdet')
class FPNViTDet(FPN):
    """mmdet's FPN with ``norm_cfg=dict(type='LN')`` normalising over channels. ``use_residual``
    is the published switch of the top-down additions; every published recipe keeps them
    (True), the only value taken here."""

    def __init__(self, *args, use_residual=True, **kwargs):
        if use_residual is not True:
            raise ValueError('FPN_vitdet: use_residual=False (no top-down path) is not '
                             'supported: every published recipe uses the top-down path')
        super().__init__(*args, **kwargs)
        for conv in [*self.lateral_convs, *self.fpn_convs]:
            if isinstance(conv.norm, nn.LayerNorm):
                setattr(conv, conv.norm_name, as_channels_norm(conv.norm))
