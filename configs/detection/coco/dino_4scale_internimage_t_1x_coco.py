# DINO 4-scale, InternImage-T, 1x with layer-wise lr decay 0.9 (the published
# "layer_wise_lr" recipe). Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_t_1k_224.pth
_base_ = '../../_base_/detection/dino_4scale_internimage.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='t', drop_path_rate=0.2, layer_scale=1.0, with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    neck=dict(in_channels=level_channels('t', out_indices=(1, 2, 3))),
    test_cfg=dict(max_per_img=100))
