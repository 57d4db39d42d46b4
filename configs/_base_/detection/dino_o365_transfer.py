# What the published CB-InternImage-H DINO transfers from Objects365 to LVIS, OpenImages and VOC
# share beyond the COCO system they inherit: the Objects365 detector to start from, training
# short side 600..1200 (long side <= 2000), test (2000, 1000), one image per GPU, and the
# dataloader settings. Names, not config keys, so that a config takes them as _base_.<name>.
o365_detector = 'checkpoints/dino_4scale_cbinternimage_h_objects365_80classes.pth'
transfer_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=[(2000, 600), (2000, 1200)], keep_ratio=True),
    dict(type='PackDetInputs')]
transfer_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2000, 1000), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]
transfer_train_loader = dict(
    batch_size=1, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'))
transfer_test_loader = dict(
    batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False))
