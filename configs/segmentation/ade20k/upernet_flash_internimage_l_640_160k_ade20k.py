# UperNet, FlashInternImage-L, 640x640, 160k (published mIoU 55.6 / 56.0 multi-scale; released
# upernet_flash_internimage_l_640_160k_ade20k.pth): the InternImage-L recipe on
# FlashInternImage-L; 8 GPUs x 2 images. Pretrained backbone (ImageNet-22k at 384; no README
# lists it): flash_intern_image_l_22k_384.pth of https://huggingface.co/OpenGVLab/DCNv4/resolve/main/
_base_ = './upernet_internimage_l_640_160k_ade20k.py'

model = dict(
    backbone=dict(
        type='FlashInternImage',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_l_22k_384.pth')))
