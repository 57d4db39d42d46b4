# UperNet on InternImage-B, the recipe the published ADE20K and Cityscapes configs share:
# ImageNet-1k pretrained backbone, drop path 0.4, AdamW lr 6e-5 without layer decay (rate 1.0).
# Pretrained: https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_b_1k_224.pth
_base_ = './upernet_internimage_t.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='b', drop_path_rate=0.4,
                  init_cfg=dict(checkpoint='checkpoints/internimage_b_1k_224.pth')),
    decode_head=dict(in_channels=level_channels('b')),
    auxiliary_head=dict(in_channels=level_channels('b', out_indices=(2,))[0]))
