# Mask R-CNN, InternImage-B, 1x (published box/mask mAP 48.8/44.0). Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_b_1k_224.pth
_base_ = './mask_rcnn_internimage_t_fpn_1x_coco.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='b', drop_path_rate=0.4,
                  init_cfg=dict(checkpoint='checkpoints/internimage_b_1k_224.pth')),
    neck=dict(in_channels=level_channels('b')))
