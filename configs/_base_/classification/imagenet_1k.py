# ImageNet-1k in the folder layout (data/imagenet/{train,val}/<class>/<image>); for the file-list
# layout add ann_file='meta/train.txt' (lines "relative/path label"). Transforms are timm's
# create_transform arguments: the published RandAugment m9-mstd0.5, random erasing 0.25, bicubic.
data_root = 'data/imagenet'
image_size = 224
num_classes = 1000

train_transform = dict(input_size=image_size, auto_augment='rand-m9-mstd0.5-inc1',
                       color_jitter=0.4, re_prob=0.25, re_mode='pixel', re_count=1,
                       interpolation='bicubic')
test_transform = dict(input_size=image_size, crop_pct=0.875, interpolation='bicubic')

train_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageClassificationDataset', data_root=data_root, data_prefix='train',
                 transform=train_transform))
val_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageClassificationDataset', data_root=data_root, data_prefix='val',
                 transform=test_transform, test_mode=True))
test_dataloader = val_dataloader
