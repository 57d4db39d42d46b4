# UperNet, FlashInternImage-S, 512x512, 160k (published mIoU 50.6 / 51.6 multi-scale; released
# upernet_flash_internimage_s_512_160k_ade20k.pth): the InternImage-S recipe on
# FlashInternImage-S with gradient checkpointing; 8 GPUs x 2 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_s_1k_224.pth
_base_ = './upernet_internimage_s_512_160k_ade20k.py'

model = dict(
    backbone=dict(
        type='FlashInternImage', with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_s_1k_224.pth')))
