# DINO 4-scale, FlashInternImage-L, 1x with the backbone at 0.1x the lr (published box mAP
# 58.8; released dino_4scale_flash_internimage_l_1x_coco.pth): the InternImage-L
# "0.1x_backbone_lr" recipe (mmengine's default constructor) on FlashInternImage-L with gradient
# checkpointing; 8 GPUs x 2 images. Pretrained backbone (ImageNet-22k at 384; no README lists
# it): flash_intern_image_l_22k_384.pth of https://huggingface.co/OpenGVLab/DCNv4/resolve/main/
_base_ = './dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr.py'

model = dict(
    backbone=dict(
        type='FlashInternImage', with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_l_22k_384.pth')))
