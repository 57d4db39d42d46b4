# Cascade Mask R-CNN, InternImage-XL, 1x (published box mAP 55.3), layer-wise lr decay 0.94.
# Pretrained backbone (ImageNet-22k, 192 -> 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_xl_22k_192to384.pth
_base_ = './cascade_internimage_l_fpn_1x_coco.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='xl',
                  init_cfg=dict(checkpoint='checkpoints/internimage_xl_22k_192to384.pth')),
    neck=dict(in_channels=level_channels('xl')))
