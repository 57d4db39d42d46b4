# UperNet on InternImage-S, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-1k pretrained backbone, drop path 0.3, AdamW lr 6e-5 without layer decay (rate 1.0).
# Pretrained: https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_s_1k_224.pth
_base_ = ['./upernet_internimage.py', './schedule_160k.py', './default_runtime.py']

model = dict(
    backbone=dict(
        channels=80, depths=[4, 4, 21, 4], groups=[5, 10, 20, 40], drop_path_rate=0.3,
        post_norm=True, offset_scale=1.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_s_1k_224.pth')),
    decode_head=dict(in_channels=[80, 160, 320, 640]),
    auxiliary_head=dict(in_channels=320))
optim_wrapper = dict(optimizer=dict(lr=6e-5), paramwise_cfg=dict(layer_decay_rate=1.0))
