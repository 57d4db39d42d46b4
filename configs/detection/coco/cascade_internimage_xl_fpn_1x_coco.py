# Cascade Mask R-CNN, InternImage-XL, 1x (published box mAP 55.3), layer-wise lr decay 0.94.
# Pretrained backbone (ImageNet-22k, 192 -> 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_xl_22k_192to384.pth
_base_ = ['../../_base_/detection/cascade_mask_rcnn_internimage_fpn.py',
          '../../_base_/detection/coco_instance.py',
          '../../_base_/detection/schedule_adamw_1x.py',
          '../../_base_/detection/default_runtime.py']

model = dict(
    backbone=dict(
        channels=192, depths=[5, 5, 24, 5], groups=[12, 24, 48, 96], drop_path_rate=0.4,
        post_norm=True, offset_scale=2.0,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_xl_22k_192to384.pth')),
    neck=dict(in_channels=[192, 384, 768, 1536]))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.94))
