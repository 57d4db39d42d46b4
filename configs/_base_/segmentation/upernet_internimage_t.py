# UperNet on InternImage-T, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-1k pretrained backbone, drop path 0.2, AdamW lr 6e-5 without layer decay (rate 1.0).
# Pretrained: https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_t_1k_224.pth
_base_ = ['./upernet_internimage.py', './schedule_160k.py', './default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='t', drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    decode_head=dict(in_channels=level_channels('t')),
    auxiliary_head=dict(in_channels=level_channels('t', out_indices=(2,))[0]))
optim_wrapper = dict(optimizer=dict(lr=6e-5), paramwise_cfg=dict(layer_decay_rate=1.0))
