# DINO 4-scale, FlashInternImage-S, 1x with layer-wise lr decay 0.9 (published box mAP 55.3;
# released dino_4scale_flash_internimage_s_1x_coco.pth): the FlashInternImage-T recipe on
# FlashInternImage-S with drop path 0.3; 8 GPUs x 4 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_s_1k_224.pth
_base_ = './dino_4scale_flash_internimage_t_1x_coco.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='s', drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_s_1k_224.pth')),
    neck=dict(in_channels=level_channels('flash_internimage_s', out_indices=(1, 2, 3))))
