# Cascade R-CNN (boxes only), InternImage-XL, 3x on CrowdHuman (published metric: "TBD" in the
# published crowd_human README, no released checkpoint; mmdet's CrowdHumanMetric reports AP,
# MR^-2 and JI on annotation_val.odgt). As published: one class (person), class-agnostic Shared2FC
# box heads, AdamW lr 1e-4, weight decay 1e-4, layer-wise lr decay 0.94, no gradient clipping,
# 36 epochs (steps 27/33), 2 images x 64 GPUs, multi-scale + crop training. Pretrained
# backbone (ImageNet-22k, 192 -> 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_xl_22k_192to384.pth
_base_ = ['mmdet::_base_/models/cascade-rcnn_r50_fpn.py',
          '../../_base_/detection/coco_instance.py',
          '../../_base_/detection/schedule_adamw_1x.py',
          '../../_base_/detection/default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(
        _delete_=True, type='InternImage', arch='xl', layer_scale=1.0, drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_xl_22k_192to384.pth')),
    neck=dict(in_channels=level_channels('xl')),
    roi_head=dict(bbox_head=[
        dict(type='Shared2FCBBoxHead', in_channels=256, fc_out_channels=1024, roi_feat_size=7,
             num_classes=1, reg_class_agnostic=True,
             bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0, 0.0, 0.0, 0.0],
                             target_stds=stds),
             loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
             loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))
        for stds in ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                     [0.033, 0.033, 0.067, 0.067])]))

data_root = 'data/CrowdHuman/'  # annotations/annotation_{train,val}.odgt, Images/, as published
multi_scales = {{_base_.multi_scales}}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoice', transforms=[
        [dict(type='RandomChoiceResize', scales=multi_scales, keep_ratio=True)],
        [dict(type='RandomChoiceResize', scales=[(400, 1333), (500, 1333), (600, 1333)],
              keep_ratio=True),
         dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600),
              allow_negative_crop=True),
         dict(type='RandomChoiceResize', scales=multi_scales, keep_ratio=True)]]),
    dict(type='PackDetInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor'))]
crowd_human = dict(type='CrowdHumanDataset', data_root=data_root,
                   data_prefix=dict(img='Images/'))
train_dataloader = dict(dataset=dict(
    _delete_=True, **crowd_human, ann_file='annotations/annotation_train.odgt',
    filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, **crowd_human, ann_file='annotations/annotation_val.odgt', test_mode=True,
    pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='CrowdHumanMetric',
                     ann_file=data_root + 'annotations/annotation_val.odgt',
                     metric=['AP', 'MR', 'JI'])
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=36)
param_scheduler = {{_base_.param_scheduler_3x}}
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4),
                     paramwise_cfg=dict(layer_decay_rate=0.94))
