# Mask R-CNN, InternImage-T, 1x (published box/mask mAP 47.2/42.5). Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_t_1k_224.pth
_base_ = ['../../_base_/detection/mask_rcnn_internimage_fpn.py',
          '../../_base_/detection/coco_instance.py',
          '../../_base_/detection/schedule_adamw_1x.py',
          '../../_base_/detection/default_runtime.py']

model = dict(
    backbone=dict(
        channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32], drop_path_rate=0.2,
        post_norm=False, offset_scale=1.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
