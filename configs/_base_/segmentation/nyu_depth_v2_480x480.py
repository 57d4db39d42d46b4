# NYU Depth V2, 40-class segmentation (segmentation.NYUDepthV2Dataset), the published data
# settings: data/nyu_depth_v2/{image,label40}/<name>.png with train.txt / test.txt, labels 0 =
# unlabeled (reduce_zero_label), 480x480 crops, test at (640, 480); mmseg's IoUMetric.
dataset_type = 'NYUDepthV2Dataset'
data_root = 'data/nyu_depth_v2/'
crop_size = (480, 480)
test_scale = (640, 480)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=test_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
split = dict(type=dataset_type, data_root=data_root,
             data_prefix=dict(img_path='image', seg_map_path='label40'))
train_dataloader = dict(
    batch_size=4, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(split, ann_file='train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(split, ann_file='test.txt', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
