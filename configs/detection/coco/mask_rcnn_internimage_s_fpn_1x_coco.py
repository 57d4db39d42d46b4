# Mask R-CNN, InternImage-S, 1x (published box/mask mAP 47.8/43.3). Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_s_1k_224.pth
_base_ = './mask_rcnn_internimage_t_fpn_1x_coco.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='s', drop_path_rate=0.3,
                  init_cfg=dict(checkpoint='checkpoints/internimage_s_1k_224.pth')),
    neck=dict(in_channels=level_channels('s')))
