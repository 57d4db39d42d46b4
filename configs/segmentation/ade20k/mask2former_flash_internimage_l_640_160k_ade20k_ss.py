# Mask2Former, FlashInternImage-L, 640x640, 160k (published mIoU 56.7; released
# mask2former_flash_internimage_l_640_160k_ade20k_ss.pth): the S recipe on FlashInternImage-L
# with drop path 0.5, gradient checkpointing and layer-wise lr decay 0.94, evaluated and saved
# every 2000 iterations; 8 GPUs x 2 images. Pretrained backbone (ImageNet-22k at 384; no README
# lists it): flash_intern_image_l_22k_384.pth of https://huggingface.co/OpenGVLab/DCNv4/resolve/main/
_base_ = './mask2former_flash_internimage_s_640_160k_ade20k_ss.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='l', drop_path_rate=0.5, with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_l_22k_384.pth')),
    decode_head=dict(in_channels=level_channels('flash_internimage_l')))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.94, offset_lr_scale=1.0))
train_cfg = dict(val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
