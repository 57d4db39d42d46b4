# UperNet, InternImage-L, Mapillary Vistas pre-training of the Cityscapes model: 512x1024 crops,
# 80k iterations, 8 GPUs x 2 images, Mapillary labels mapped to the 19 Cityscapes classes,
# validation on Cityscapes val every 8000 (published file upernet_internimage_l_512x1024_80k_
# mapillary.pth; no Mapillary metric published). The L recipe: drop path 0.4, AdamW lr 2e-5,
# layer decay 0.94, clipping 0.1. 150 output classes as published (the released checkpoint's
# size; the 19 Cityscapes ids are the first ones, the other logits never match a label).
_base_ = ['../../_base_/segmentation/upernet_internimage_l.py',
          '../../_base_/segmentation/mapillary_to_cityscapes_512x1024.py']

max_iters = 80000
model = dict(data_preprocessor=dict(size=_base_.crop_size), decode_head=dict(num_classes=150),
             auxiliary_head=dict(num_classes=150))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=_base_.warmup_iters + 1),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1)]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
