# UperNet on InternImage-L, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-22k pretrained backbone (384), drop path 0.4, AdamW lr 2e-5 with layer decay 0.94,
# gradient clipping at norm 0.1.
# Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_l_22k_192to384.pth
_base_ = ['./upernet_internimage.py', './schedule_160k.py', './default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        arch='l', drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_l_22k_192to384.pth')),
    decode_head=dict(in_channels=level_channels('l')),
    auxiliary_head=dict(in_channels=level_channels('l', out_indices=(2,))[0]))
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.94),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
