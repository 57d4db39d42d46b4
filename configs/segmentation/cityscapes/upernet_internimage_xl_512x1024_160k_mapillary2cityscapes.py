# UperNet, InternImage-XL, Cityscapes fine-tuning of the Mapillary model (published mIoU
# single-scale / multi-scale: 86.20 / 86.42, multi-scale with --tta; published file
# upernet_internimage_xl_512x1024_160k_mapillary2cityscapes.pth): the L config on XL, starting
# as published from the SegFormer-XL Mapillary model (its backbone; see the L config).
_base_ = './upernet_internimage_l_512x1024_160k_mapillary2cityscapes.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='xl'),
    decode_head=dict(in_channels=level_channels('xl')),
    auxiliary_head=dict(in_channels=level_channels('xl', out_indices=(2,))[0]))
load_from = 'checkpoints/segformer_internimage_xl_512x1024_80k_mapillary.pth'
