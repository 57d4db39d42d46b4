# DINO 4-scale, InternImage-L, 1x with layer-wise lr decay 0.9 (the published
# "layer_wise_lr" recipe). Pretrained backbone (ImageNet-22k, 192 -> 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_l_22k_192to384.pth
_base_ = '../../_base_/detection/dino_4scale_internimage.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='l', drop_path_rate=0.4, layer_scale=1.0,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_l_22k_192to384.pth')),
    neck=dict(in_channels=level_channels('l', out_indices=(1, 2, 3))))
