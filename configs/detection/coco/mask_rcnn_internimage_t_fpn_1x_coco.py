# Mask R-CNN, InternImage-T, 1x (published box/mask mAP 47.2/42.5). Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_t_1k_224.pth
_base_ = ['../../_base_/detection/mask_rcnn_internimage_fpn.py',
          '../../_base_/detection/coco_instance.py',
          '../../_base_/detection/schedule_adamw_1x.py',
          '../../_base_/detection/default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='t', drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    neck=dict(in_channels=level_channels('t')))
