# The published Mapillary pre-training data of the Cityscapes models: Mapillary Vistas v1.2
# training + validation images (mmseg's MapillaryDataset_v1, .jpg / .png), labels mapped to the
# 19 Cityscapes train ids (segmentation.MapillaryToCityscapes), resize to (2048, 1024) x 0.5..1.0,
# 512x1024 crops, flip, photometric distortion; validation and test on Cityscapes val (mmseg's
# settings). Published layout: data/Mapillary/{training,validation}/{images,labels}.
_base_ = './cityscapes_512x1024.py'

mapillary_root = 'data/Mapillary/'
crop_size = (512, 1024)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='MapillaryToCityscapes'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 1.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')]
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ConcatDataset',
    datasets=[dict(type='MapillaryDataset_v1', data_root=mapillary_root,
                   data_prefix=dict(img_path=f'{split}/images', seg_map_path=f'{split}/labels'),
                   pipeline=train_pipeline)
              for split in ('training', 'validation')]))
