# UperNet, FlashInternImage-B, 512x512, 160k (published mIoU 52.0 / 52.6 multi-scale; released
# upernet_flash_internimage_b_512_160k_ade20k.pth): the InternImage-B recipe on
# FlashInternImage-B with drop path 0.3; 8 GPUs x 2 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_b_1k_224.pth
_base_ = './upernet_internimage_b_512_160k_ade20k.py'

model = dict(
    backbone=dict(
        type='FlashInternImage', drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_b_1k_224.pth')))
