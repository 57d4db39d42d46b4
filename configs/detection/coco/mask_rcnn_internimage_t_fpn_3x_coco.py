# Mask R-CNN, InternImage-T, 3x (published box/mask mAP 49.1/43.7): the 1x config trained for 36
# epochs with the multi-scale + crop augmentation.
_base_ = './mask_rcnn_internimage_t_fpn_1x_coco.py'

train_dataloader = dict(dataset=dict(pipeline={{_base_.ms_crop_train_pipeline}}))
train_cfg = dict(max_epochs=36)
param_scheduler = {{_base_.param_scheduler_3x}}
