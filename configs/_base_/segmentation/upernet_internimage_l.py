# UperNet on InternImage-L, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-22k pretrained backbone (384), drop path 0.4, AdamW lr 2e-5 with layer decay 0.94,
# gradient clipping at norm 0.1.
# Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_l_22k_192to384.pth
_base_ = ['./upernet_internimage.py', './schedule_160k.py', './default_runtime.py']

model = dict(
    backbone=dict(
        channels=160, depths=[5, 5, 22, 5], groups=[10, 20, 40, 80], drop_path_rate=0.4,
        post_norm=True, offset_scale=2.0,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_l_22k_192to384.pth')),
    decode_head=dict(in_channels=[160, 320, 640, 1280]),
    auxiliary_head=dict(in_channels=640))
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.94),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
