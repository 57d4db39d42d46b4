# Mask2Former, FlashInternImage-S, 640x640, 160k (published mIoU 52.6 in the repository's README,
# 52.2 in its ADE20K README; released mask2former_flash_internimage_s_640_160k_ade20k_ss.pth);
# 8 GPUs x 2 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_s_1k_224.pth
_base_ = ['../../_base_/segmentation/mask2former_flash_internimage.py',
          '../../_base_/segmentation/ade20k_640x640.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    data_preprocessor=dict(size=(640, 640)),
    backbone=dict(
        arch='s', drop_path_rate=0.3, layer_scale=1.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_s_1k_224.pth')),
    decode_head=dict(in_channels=level_channels('flash_internimage_s')))
