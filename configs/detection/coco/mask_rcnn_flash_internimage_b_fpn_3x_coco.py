# Mask R-CNN, FlashInternImage-B, 3x (published box/mask mAP 50.6/45.4; released
# mask_rcnn_flash_internimage_b_fpn_3x_coco.pth): the 1x recipe for 36 epochs with the
# multi-scale + crop augmentation, drop path 0.4, 4 images per GPU, lr 2e-4, layer-wise lr decay
# 0.9 and offset_lr_scale 0.01, which as published puts the DCNv4 offset/mask projections
# (offset_mask) at 0.01 of their layer's lr. Launch: the published config says "4 nodes, a total
# batch size of 64": 64 / 4 images per GPU = 16 GPUs.
_base_ = './mask_rcnn_flash_internimage_b_fpn_1x_coco.py'

model = dict(backbone=dict(drop_path_rate=0.4))
train_dataloader = dict(batch_size=4, dataset=dict(pipeline={{_base_.ms_crop_train_pipeline}}))
train_cfg = dict(max_epochs=36)
param_scheduler = {{_base_.param_scheduler_3x}}
optim_wrapper = dict(optimizer=dict(lr=2e-4),
                     paramwise_cfg=dict(layer_decay_rate=0.9, offset_lr_scale=0.01))
auto_scale_lr = dict(base_batch_size=64)
