# DINO 4-scale, InternImage-L, 1x with layer-wise lr decay 0.9 (the published
# "layer_wise_lr" recipe). Pretrained backbone (ImageNet-22k, 192 -> 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_l_22k_192to384.pth
_base_ = '../../_base_/detection/dino_4scale_internimage.py'

model = dict(
    backbone=dict(
        channels=160, depths=[5, 5, 22, 5], groups=[10, 20, 40, 80], drop_path_rate=0.4,
        layer_scale=1.0, post_norm=True, offset_scale=2.0, with_cp=False,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_l_22k_192to384.pth')),
    neck=dict(in_channels=[320, 640, 1280]))
