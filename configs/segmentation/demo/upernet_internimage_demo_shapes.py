# The embedded segmentation demo: a small InternImage (compiled DCNv3 op) + UperNet fine-tuned on
# the generated ADE20K-format shapes set (128x128 images, background + 4 shape kinds, unlabeled
# outlines; make it with  python tools/generate_demo_data.py --task segmentation) for a few
# minutes on a CPU, then evaluated with mmseg's IoUMetric (per-class IoU table and mIoU).
# The backbone is the classification demo's network, initialised from its checkpoint (its
# pre-training, as ImageNet weights are the published configs'; python tools/demo.py trains it
# first): trained from scratch in the same time the net only learns shapes from background.
# Heads narrowed to the small backbone, BN instead of SyncBN (one process), a high learning rate
# and a short warm-up.
_base_ = ['../../_base_/segmentation/upernet_internimage.py',
          '../../_base_/segmentation/shapes_128x128.py',
          '../../_base_/segmentation/schedule_160k.py',
          '../../_base_/segmentation/default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

num_classes = 5  # background + 4 shape kinds (internimage.demo_data.segmentation.CLASSES)
max_iters = 1000
pretrained = 'work_dirs/demo/classification/epoch_50.pth'
warmup_iters = 40
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(arch='t', channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8],
                  layer_scale=None, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    decode_head=dict(in_channels=level_channels('t', channels=16), channels=32,
                     num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=level_channels('t', (2,), channels=16)[0], channels=16,
                        num_classes=num_classes, norm_cfg=norm_cfg))

optim_wrapper = dict(optimizer=dict(lr=6e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=max_iters, save_best=None))
randomness = dict(seed=0)
