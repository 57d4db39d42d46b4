# Mask R-CNN, InternImage-B, 1x (published box/mask mAP 48.8/44.0). Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_b_1k_224.pth
_base_ = ['../../_base_/detection/mask_rcnn_internimage_fpn.py',
          '../../_base_/detection/coco_instance.py',
          '../../_base_/detection/schedule_adamw_1x.py',
          '../../_base_/detection/default_runtime.py']

model = dict(
    backbone=dict(
        channels=112, depths=[4, 4, 21, 4], groups=[7, 14, 28, 56], drop_path_rate=0.4,
        post_norm=True, offset_scale=1.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_b_1k_224.pth')),
    neck=dict(in_channels=[112, 224, 448, 896]))
