# The published recipe of the InternImage-H/G DINO systems, fine-tuning on COCO a detector
# pre-trained on Objects365: 900 queries, 1000 denoising queries, one image per GPU, training
# short side 600..1800 (long side <= 2000), test 1000 / 2000, 20k iterations at constant lr 1e-4
# after 500 warm-up iterations, weight decay 1e-4, gradient clipping 0.1, layer-wise lr decay
# 0.94 (published detection rule) with offset_lr_scale 1e-3, which as published scales the DINO
# head's sampling_offsets (not the DCNv3 offset/mask projections: dcn_offset_lr_scale would),
# checkpointed blocks, evaluation and checkpoints every 200 iterations.
# Start from the Objects365 detector with `load_from` (the published ones are in mmdet 2.x
# layout: tools/train.py converts their transformer keys to mmdet 3.x names in memory).
_base_ = './dino_4scale_internimage.py'

model = dict(
    backbone=dict(drop_path_rate=0.5, with_cp=True),
    dn_cfg=dict(group_cfg=dict(num_dn_queries=1000)),
    test_cfg=dict(max_per_img=300))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=[(2000, 600), (2000, 1800)], keep_ratio=True),
    dict(type='PackDetInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=(2000, 1000), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]
train_dataloader = dict(
    batch_size=1,
    dataset=dict(filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 20000
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=200)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=501)]
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.94, offset_lr_scale=1e-3))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=200))
log_processor = dict(by_epoch=False)
