# Mask R-CNN, FlashInternImage-B, 1x (published box/mask mAP 50.1/44.5; released
# mask_rcnn_flash_internimage_b_fpn_1x_coco.pth): the InternImage-B recipe on FlashInternImage-B
# (DCNv4, offset scale 0.5, depthwise offset conv 3x3; gradient checkpointing) with drop path
# 0.3 and the FPN_vitdet neck; 8 GPUs x 2 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_b_1k_224.pth
_base_ = ['./mask_rcnn_internimage_b_fpn_1x_coco.py', '../../_base_/detection/flash_internimage.py']

model = dict(
    backbone=dict(
        type='FlashInternImage', drop_path_rate=0.3, with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_b_1k_224.pth')),
    neck={{_base_.flash_fpn_neck}})
