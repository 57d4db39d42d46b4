# UperNet on InternImage-XL, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-22k pretrained backbone (384), drop path 0.4, AdamW lr 2e-5 with layer decay 0.94,
# gradient clipping at norm 0.1.
# Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_xl_22k_192to384.pth
_base_ = './upernet_internimage_l.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='xl',
                  init_cfg=dict(checkpoint='checkpoints/internimage_xl_22k_192to384.pth')),
    decode_head=dict(in_channels=level_channels('xl')),
    auxiliary_head=dict(in_channels=level_channels('xl', out_indices=(2,))[0]))
