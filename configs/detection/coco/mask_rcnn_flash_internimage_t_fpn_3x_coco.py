# Mask R-CNN, FlashInternImage-T, 3x (published box/mask mAP 49.5/44.0; released
# mask_rcnn_flash_internimage_t_fpn_3x_coco.pth): the 1x recipe for 36 epochs with the
# multi-scale + crop augmentation. Launch: the published config says "4 nodes, a total batch
# size of 64" at 2 images per GPU: 32 GPUs.
_base_ = './mask_rcnn_flash_internimage_t_fpn_1x_coco.py'

train_dataloader = dict(dataset=dict(pipeline={{_base_.ms_crop_train_pipeline}}))
train_cfg = dict(max_epochs=36)
param_scheduler = {{_base_.param_scheduler_3x}}
auto_scale_lr = dict(base_batch_size=64)
