# ImageNet-1k as the published from-scratch recipes read it (published classification/dataset/
# build.py with the config.py defaults). Training: timm's create_transform (random resized crop,
# flip, RandAugment rand-m9-mstd0.5-inc1, colour jitter 0.4, which timm ignores beside
# RandAugment, random erasing 0.25 in pixel mode with one box, bicubic), images decoded by
# OpenCV as the published training set (mmcv.imfrombytes) did. Evaluation: bicubic resize of the
# short side to 224, centre crop 224 (TEST.CROP with size = int(1.0 * IMG_SIZE): nothing of the
# short side is cropped, crop_pct 1.0), PIL decoding, ImageNet mean/std. 128 images per GPU
# (DATA.BATCH_SIZE). Folder layout data/imagenet/{train,val}/<class>/<image>; for the file-list
# layout add ann_file='meta/train.txt' (lines "relative/path label").
data_root = 'data/imagenet'
image_size = 224
num_classes = 1000
mean = (0.485, 0.456, 0.406)
std = (0.229, 0.224, 0.225)

train_transform = dict(input_size=image_size, auto_augment='rand-m9-mstd0.5-inc1',
                       color_jitter=0.4, re_prob=0.25, re_mode='pixel', re_count=1,
                       interpolation='bicubic', mean=mean, std=std)
test_transform = dict(input_size=image_size, crop_pct=1.0, interpolation='bicubic', mean=mean,
                      std=std)

train_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageClassificationDataset', data_root=data_root, data_prefix='train',
                 transform=train_transform, decoder='cv2'))
val_dataloader = dict(
    batch_size=128, num_workers=8, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageClassificationDataset', data_root=data_root, data_prefix='val',
                 transform=test_transform, test_mode=True))
test_dataloader = val_dataloader
