# Mask R-CNN, FlashInternImage-T, 1x (published box/mask mAP 48.0/43.1; released
# mask_rcnn_flash_internimage_t_fpn_1x_coco.pth): the InternImage-T recipe on the FlashInternImage
# backbone (DCNv4; gradient checkpointing) with the FPN_vitdet neck, as the published
# mask_rcnn_flash_intern_image_t_fpn_1x_coco.py; 8 GPUs x 2 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_t_1k_224.pth
_base_ = ['./mask_rcnn_internimage_t_fpn_1x_coco.py', '../../_base_/detection/flash_internimage.py']

model = dict(
    backbone=dict(
        type='FlashInternImage', with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_t_1k_224.pth')),
    neck={{_base_.flash_fpn_neck}})
