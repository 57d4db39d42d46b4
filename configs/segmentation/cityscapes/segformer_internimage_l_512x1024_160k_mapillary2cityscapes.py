# SegFormer head, InternImage-L, Cityscapes 512x1024 crops, 160k iterations from the Mapillary
# model, 8 GPUs x 2 images, validation every 4000 (published mIoU single-scale / multi-scale:
# 85.16 / 85.67; multi-scale with --tta). Published file:
# segformer_internimage_l_512x1024_160k_mapillary2cityscapes.pth. Trained on the published
# cityscapes_extra data (fine train + refined coarse train_extra).
_base_ = ['../../_base_/segmentation/segformer_internimage_l.py',
          '../../_base_/segmentation/cityscapes_extra_512x1024.py']

load_from = 'checkpoints/segformer_internimage_l_512x1024_80k_mapillary.pth'
train_cfg = dict(val_interval=4000)
