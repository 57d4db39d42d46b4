# UperNet on InternImage-S, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-1k pretrained backbone, drop path 0.3, AdamW lr 6e-5 without layer decay (rate 1.0).
# Pretrained: https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_s_1k_224.pth
_base_ = './upernet_internimage_t.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='s', drop_path_rate=0.3,
                  init_cfg=dict(checkpoint='checkpoints/internimage_s_1k_224.pth')),
    decode_head=dict(in_channels=level_channels('s')),
    auxiliary_head=dict(in_channels=level_channels('s', out_indices=(2,))[0]))
