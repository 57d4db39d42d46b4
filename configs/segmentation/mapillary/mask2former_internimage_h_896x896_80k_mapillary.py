# Mask2Former-H (256-d head, 100 queries), Mapillary Vistas pre-training of the Cityscapes
# model: labels mapped to the 19 Cityscapes classes, 896x896 crops of (2048, 1024) x 0.5..2.0,
# 80k iterations, 16 GPUs x 2 images, sliding-window test (896, stride 512) on Cityscapes val
# every 2000 (published file mask2former_internimage_h_896x896_80k_mapillary.pth; no Mapillary
# metric published). AdamW lr 2e-5, layer decay 0.95, clipping 0.1.
# From the base's pretrained H backbone.
_base_ = ['../../_base_/segmentation/mask2former_internimage_h.py',
          '../../_base_/segmentation/mapillary_to_cityscapes_512x1024.py',
          '../../_base_/segmentation/schedule_80k.py']

num_classes = 19
crop_size = (896, 896)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes,
                     loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(512, 512)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='MapillaryToCityscapes'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')]
train_dataloader = dict(dataset=dict(datasets=[
    dict(dataset, pipeline=train_pipeline)
    for dataset in _base_.train_dataloader.dataset.datasets]))
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.95),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
train_cfg = dict(val_interval=2000)
val_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline_to_multiple))
test_dataloader = val_dataloader
tta_pipeline = _base_.tta_pipeline_to_multiple
