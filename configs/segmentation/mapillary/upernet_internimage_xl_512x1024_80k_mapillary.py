# UperNet, InternImage-XL, Mapillary Vistas pre-training of the Cityscapes model (published file
# upernet_internimage_xl_512x1024_80k_mapillary.pth; no Mapillary metric published): the L
# recipe on XL. Pretrained backbone:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_xl_22k_192to384.pth
_base_ = './upernet_internimage_l_512x1024_80k_mapillary.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='xl',
                  init_cfg=dict(checkpoint='checkpoints/internimage_xl_22k_192to384.pth')),
    decode_head=dict(in_channels=level_channels('xl')),
    auxiliary_head=dict(in_channels=level_channels('xl', out_indices=(2,))[0]))
