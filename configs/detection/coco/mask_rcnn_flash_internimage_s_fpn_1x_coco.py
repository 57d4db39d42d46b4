# Mask R-CNN, FlashInternImage-S, 1x (published box/mask mAP 49.2/44.0; released
# mask_rcnn_flash_internimage_s_fpn_1x_coco.pth): the InternImage-S recipe on FlashInternImage-S
# (DCNv4, depthwise offset conv 3x3; gradient checkpointing) with the FPN_vitdet neck;
# 8 GPUs x 2 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_s_1k_224.pth
_base_ = ['./mask_rcnn_internimage_s_fpn_1x_coco.py', '../../_base_/detection/flash_internimage.py']

model = dict(
    backbone=dict(
        type='FlashInternImage', with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_s_1k_224.pth')),
    neck={{_base_.flash_fpn_neck}})
