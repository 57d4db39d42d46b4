# Cascade Mask R-CNN, FlashInternImage-L, 3x (published box/mask mAP 56.7/48.9; released
# cascade_flash_internimage_l_fpn_3x_coco.pth): the InternImage-L 3x recipe (multi-scale + crop,
# lr 2e-4, layer-wise lr decay 0.90, offset_lr_scale 0.01, EMA) on FlashInternImage-L with
# gradient checkpointing, 4 images per GPU and the FPN_vitdet neck. offset_lr_scale 0.01 now
# acts: the DCNv4 offset/mask projections (offset_mask) train at 0.01 of their layer's lr, as
# published. Launch: the published config says "4 nodes, a total batch size of 64":
# 64 / 4 images per GPU = 16 GPUs.
_base_ = ['./cascade_internimage_l_fpn_3x_coco.py', '../../_base_/detection/flash_internimage.py']

model = dict(
    backbone=dict(
        type='FlashInternImage', with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_l_22k_384.pth')),
    neck={{_base_.flash_fpn_neck}})
train_dataloader = dict(batch_size=4)
