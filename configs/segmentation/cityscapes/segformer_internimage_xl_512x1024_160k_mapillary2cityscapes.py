# SegFormer head, InternImage-XL, Cityscapes fine-tuning of the Mapillary model (published mIoU
# single-scale / multi-scale: 85.41 / 85.93, multi-scale with --tta; published file
# segformer_internimage_xl_512x1024_160k_mapillary2cityscapes.pth): the L config on XL.
_base_ = './segformer_internimage_l_512x1024_160k_mapillary2cityscapes.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(backbone=dict(arch='xl'), decode_head=dict(in_channels=level_channels('xl')))
load_from = 'checkpoints/segformer_internimage_xl_512x1024_80k_mapillary.pth'
