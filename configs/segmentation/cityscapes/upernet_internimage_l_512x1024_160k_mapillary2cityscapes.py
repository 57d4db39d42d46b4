# UperNet, InternImage-L, Cityscapes fine-tuning of the Mapillary model: fine + refined coarse
# (train_extra) data, 512x1024 crops, 160k iterations, 8 GPUs x 2 images, validation every 4000
# (published mIoU single-scale / multi-scale: 85.94 / 86.22, multi-scale with --tta; published
# file upernet_internimage_l_512x1024_160k_mapillary2cityscapes.pth). The L recipe (lr 2e-5,
# layer decay 0.94, clipping 0.1); 150 output classes. As the published config, it starts from
# the SegFormer-L Mapillary model: only that model's backbone fits UperNet, the heads keep their
# initialisation (the mismatched keys are skipped, as mmcv's non-strict load_from did). Starting
# from the UperNet-L Mapillary model instead (--cfg-options load_from=checkpoints/
# upernet_internimage_l_512x1024_80k_mapillary.pth) is not the published recipe.
_base_ = ['../../_base_/segmentation/upernet_internimage_l.py',
          '../../_base_/segmentation/cityscapes_extra_512x1024.py']

model = dict(data_preprocessor=dict(size=_base_.crop_size),
             backbone=dict(init_cfg=None),
             decode_head=dict(num_classes=150), auxiliary_head=dict(num_classes=150))
load_from = 'checkpoints/segformer_internimage_l_512x1024_80k_mapillary.pth'
train_cfg = dict(val_interval=4000)
