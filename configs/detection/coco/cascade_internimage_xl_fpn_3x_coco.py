# Cascade Mask R-CNN, InternImage-XL, 3x (published box mAP 56.2): as the L 3x config (32 GPUs
# x 2 images, 36 epochs, multi-scale + crop, lr 2e-4, decay 0.90, the published
# offset_lr_scale 0.01 that reaches no parameter of this detector, EMA), with the published drop
# path 0.6 of the XL 3x recipe.
_base_ = './cascade_internimage_xl_fpn_1x_coco.py'

model = dict(backbone=dict(drop_path_rate=0.6))
train_dataloader = dict(dataset=dict(pipeline={{_base_.ms_crop_train_pipeline}}))
train_cfg = dict(max_epochs=36)
param_scheduler = {{_base_.param_scheduler_3x}}
optim_wrapper = dict(optimizer=dict(lr=2e-4),
                     paramwise_cfg=dict(layer_decay_rate=0.90, offset_lr_scale=0.01))
auto_scale_lr = dict(base_batch_size=64)
custom_hooks = [dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=1e-4,
                     update_buffers=True, priority=49)]
