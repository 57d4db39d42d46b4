# Cascade Mask R-CNN, InternImage-L, 1x (published box mAP 54.9), layer-wise lr decay 0.94.
# Pretrained backbone (ImageNet-22k, 192 -> 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_l_22k_192to384.pth
_base_ = ['../../_base_/detection/cascade_mask_rcnn_internimage_fpn.py',
          '../../_base_/detection/coco_instance.py',
          '../../_base_/detection/schedule_adamw_1x.py',
          '../../_base_/detection/default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='l', drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_l_22k_192to384.pth')),
    neck=dict(in_channels=level_channels('l')))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.94))
