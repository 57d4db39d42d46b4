# Cascade Mask R-CNN, FlashInternImage-L, 1x (published box/mask mAP 55.6/48.2; released
# cascade_flash_internimage_l_fpn_1x_coco.pth): the InternImage-L recipe on FlashInternImage-L
# (DCNv4 with its output bias, MLP fc2 bias, depthwise offset conv 3x3) with the FPN_vitdet
# neck; 8 GPUs x 2 images. Its bbox heads, published as DCNv4FCBBoxHead(with_dcn=False), are
# mmdet's ConvFCBBoxHead (the same layers, names and forward). Pretrained backbone
# (ImageNet-22k at 384; no README lists it): flash_intern_image_l_22k_384.pth of
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/
_base_ = ['./cascade_internimage_l_fpn_1x_coco.py', '../../_base_/detection/flash_internimage.py']

model = dict(
    backbone=dict(
        type='FlashInternImage',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_l_22k_384.pth')),
    neck={{_base_.flash_fpn_neck}})
