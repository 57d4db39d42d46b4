# UperNet on InternImage-T, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-1k pretrained backbone, drop path 0.2, AdamW lr 6e-5 without layer decay (rate 1.0).
# Pretrained: https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_t_1k_224.pth
_base_ = ['./upernet_internimage.py', './schedule_160k.py', './default_runtime.py']

model = dict(
    backbone=dict(
        channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32], drop_path_rate=0.2,
        post_norm=False, offset_scale=1.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    decode_head=dict(in_channels=[64, 128, 256, 512]),
    auxiliary_head=dict(in_channels=256))
optim_wrapper = dict(optimizer=dict(lr=6e-5), paramwise_cfg=dict(layer_decay_rate=1.0))
