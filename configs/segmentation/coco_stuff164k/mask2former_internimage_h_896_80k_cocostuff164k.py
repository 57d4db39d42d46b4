# Mask2Former-H (1024-d head, 200 queries), COCO-Stuff-164k (171 classes) at 896x896, 80k
# iterations, 16 GPUs x 1 image (published mIoU single-scale 52.6; published file
# mask2former_internimage_h_896_80k_cocostuff164k.pth). AdamW lr 2e-5, layer decay 0.95, no
# gradient clipping (as published), validation every 8000. mmseg's COCOStuffDataset
# (data/coco_stuff164k/{images,annotations}/{train,val}2017, *_labelTrainIds.png), resized as the
# ADE20K 896 recipe: (3584, 896) x 0.5..2.0, test (3584, 896).
# From the base's pretrained H backbone.
_base_ = ['../../_base_/segmentation/mask2former_internimage_h_1024d.py',
          'mmseg::_base_/datasets/coco-stuff164k.py',
          '../../_base_/segmentation/schedule_80k.py']

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

num_classes = 171
crop_size = (896, 896)
test_scale = (3584, 896)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes,
                     loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=test_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.95))
tta_pipeline = multi_scale_flip_test(test_scale, size_divisor=32)
