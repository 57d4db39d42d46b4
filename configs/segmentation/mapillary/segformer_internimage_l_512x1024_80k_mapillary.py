# SegFormer head, InternImage-L, Mapillary Vistas with labels mapped to the 19 Cityscapes classes
# (the published Mapillary data, configs/_base_/segmentation/mapillary_to_cityscapes_512x1024.py),
# 512x1024 crops, 80k iterations, 8 GPUs x 2 images, validation every 8000 on Cityscapes val: the
# published pre-training of the Cityscapes model (published file
# segformer_internimage_l_512x1024_80k_mapillary.pth, no Mapillary metric published). Pretrained backbone (ImageNet-22k, 192 -> 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_l_22k_192to384.pth
_base_ = ['../../_base_/segmentation/segformer_internimage_l.py',
          '../../_base_/segmentation/mapillary_to_cityscapes_512x1024.py']

max_iters = 80000
model = dict(backbone=dict(init_cfg=dict(
    type='Pretrained', checkpoint='checkpoints/internimage_l_22k_192to384.pth')))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=_base_.warmup_iters + 1),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1)]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
