# Mask2Former-H (1024-d head, 200 queries), COCO-Stuff-10k (171 classes, reduce_zero_label as
# mmseg's 10k data) at 512x512, 40k iterations from the COCO-Stuff-164k model, 16 GPUs x 1
# image (published mIoU single-scale / multi-scale: 59.2 / 59.6, multi-scale with --tta;
# published file mask2former_internimage_h_512_40k_cocostuff164k_to_10k.pth). AdamW lr 1e-5,
# layer decay 0.95, no gradient clipping; mmseg's COCO-Stuff-10k data settings (data/
# coco_stuff10k, resize (2048, 512) x 0.5..2.0, test (2048, 512)).
_base_ = ['../../_base_/segmentation/mask2former_internimage_h_1024d.py',
          'mmseg::_base_/datasets/coco-stuff10k.py',
          '../../_base_/segmentation/schedule_40k.py']

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

num_classes = 171
model = dict(
    backbone=dict(init_cfg=None),
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=num_classes,
                     loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
load_from = 'checkpoints/mask2former_internimage_h_896_80k_cocostuff164k.pth'
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(optimizer=dict(lr=1e-5), paramwise_cfg=dict(layer_decay_rate=0.95))
test_scale = (2048, 512)
test_pipeline = [  # resized to a multiple of 32 as published, not padded
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
tta_pipeline = multi_scale_flip_test(test_scale, size_divisor=32)
