# DINO 4-scale, InternImage-T, 1x with layer-wise lr decay 0.9 (the published
# "layer_wise_lr" recipe). Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_t_1k_224.pth
_base_ = '../../_base_/detection/dino_4scale_internimage.py'

model = dict(
    backbone=dict(
        channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32], drop_path_rate=0.2,
        layer_scale=1.0, post_norm=False, offset_scale=1.0, with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    neck=dict(in_channels=[128, 256, 512]),
    test_cfg=dict(max_per_img=100))
