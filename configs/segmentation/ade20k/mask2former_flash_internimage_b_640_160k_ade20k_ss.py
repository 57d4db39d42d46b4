# Mask2Former, FlashInternImage-B, 640x640, 160k (published mIoU 53.4; released
# mask2former_flash_internimage_b_640_160k_ade20k_ss.pth): the S recipe on FlashInternImage-B
# with drop path 0.4; 8 GPUs x 2 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_b_1k_224.pth
_base_ = './mask2former_flash_internimage_s_640_160k_ade20k_ss.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='b', drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_b_1k_224.pth')),
    decode_head=dict(in_channels=level_channels('flash_internimage_b')))
