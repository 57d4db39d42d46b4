# The embedded detection demo: a small InternImage (channels 16, depths 1-1-2-1, compiled DCNv3
# op) + Mask R-CNN trained from scratch on the generated COCO-format shapes set (320 training and
# 64 validation images of 160x160 with 1-4 shapes of 4 kinds; make it with
#   python tools/generate_demo_data.py --task detection)
# for 16 epochs of 40 iterations (about 4 minutes on 2 CPU cores), then evaluated with mmdet's
# CocoMetric (box and mask mAP). The heads are narrowed to 32 channels, and the anchors (24..192
# px), proposal counts and RoI samples are sized for small images with few objects.
_base_ = ['../../_base_/detection/mask_rcnn_internimage_fpn.py',
          '../../_base_/detection/coco_instance.py',
          '../../_base_/detection/schedule_adamw_1x.py',
          '../../_base_/detection/default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

data_root = 'data/demo/coco_shapes/'
classes = ('circle', 'square', 'triangle', 'star')
image_size = 160
width = 32  # FPN, RPN and RoI head channels
max_epochs = 16

model = dict(
    backbone=dict(arch='t', channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8],
                  layer_scale=None),
    neck=dict(in_channels=level_channels('t', channels=16), out_channels=width, num_outs=4),
    rpn_head=dict(
        in_channels=width, feat_channels=width,
        anchor_generator=dict(scales=[6], strides=[4, 8, 16, 32])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width, featmap_strides=[4, 8, 16]),
        bbox_head=dict(in_channels=width, fc_out_channels=128, num_classes=len(classes)),
        mask_roi_extractor=dict(out_channels=width, featmap_strides=[4, 8, 16]),
        mask_head=dict(num_convs=2, in_channels=width, conv_out_channels=width,
                       num_classes=len(classes))),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(nms_pre=300, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=100),
        rcnn=dict(max_per_img=20)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackDetInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]
dataset = dict(type='CocoDataset', data_root=data_root, metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=False,
    dataset=dict(dataset, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='train/'), filter_cfg=dict(filter_empty_gt=True),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=False,
    dataset=dict(dataset, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[12, 15], gamma=0.1)]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs))
randomness = dict(seed=0)
