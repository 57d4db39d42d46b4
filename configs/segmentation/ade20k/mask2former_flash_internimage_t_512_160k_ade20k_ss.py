# Mask2Former, FlashInternImage-T, 512x512, 160k (published mIoU 51.2 single-scale; released
# mask2former_flash_internimage_t_512_160k_ade20k_ss.pth): 100 queries, the pixel decoder's FFN
# 1024 wide, layer-wise lr decay 0.9 and gradient clipping at 0.01, as published; 8 GPUs x 2
# images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_t_1k_224.pth
_base_ = ['../../_base_/segmentation/mask2former_flash_internimage.py',
          '../../_base_/segmentation/ade20k_512x512.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    data_preprocessor=dict(size=(512, 512)),
    backbone=dict(
        arch='t', drop_path_rate=0.2, layer_scale=1.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_t_1k_224.pth')),
    decode_head=dict(
        in_channels=level_channels('flash_internimage_t'), num_queries=100,
        pixel_decoder=dict(encoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=1024))))))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.9), clip_grad=dict(max_norm=0.01))
