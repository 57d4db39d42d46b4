# DINO on CB-InternImage-H, Objects365 -> LVIS v1 (1203 classes), box AP on LVIS v1 val
# (published single-scale / multi-scale: 62.3 / 63.2; published file
# dino_4scale_cbinternimage_h_objects365_lvis.pth; minival: the _minival_ss config). The COCO
# system's model and optimizer (lr 1e-4, weight decay 1e-4, layer decay 0.94, offsets 1e-3,
# clipping 0.1, 500 warm-up iterations, constant lr) on mmdet's LVISV1Dataset, class-balanced
# resampling (threshold 1e-3) as published, 80k iterations, evaluation and checkpoints every 500
# (the last 10 kept). mmdet's LVISMetric (the `lvis` package; detection.LVISNumpy2Metric runs it
# on numpy 2). Not reproduced: the
# published head's federated loss and SNIP training options (mmdet 3.3's DINO has neither).
_base_ = ['../coco/dino_4scale_cbinternimage_h_o365_coco.py',
          '../../_base_/detection/dino_o365_transfer.py']

data_root = 'data/lvis_v1/'
val_ann = 'annotations/lvis_v1_val.json'
load_from = _base_.o365_detector
model = dict(bbox_head=dict(num_classes=1203))
lvis = dict(type='LVISV1Dataset', data_root=data_root, data_prefix=dict(img=''))
train_dataloader = dict(_delete_=True, **_base_.transfer_train_loader, dataset=dict(
    type='ClassBalancedDataset', oversample_thr=1e-3,
    dataset=dict(lvis, ann_file='annotations/lvis_v1_train.json',
                 filter_cfg=dict(filter_empty_gt=True, min_size=32),
                 pipeline=_base_.transfer_train_pipeline)))
val_dataloader = dict(_delete_=True, **_base_.transfer_test_loader, dataset=dict(
    lvis, ann_file=val_ann, test_mode=True, pipeline=_base_.transfer_test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='LVISNumpy2Metric', ann_file=data_root + val_ann,
                     metric='bbox')
test_evaluator = val_evaluator

train_cfg = dict(max_iters=80000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=10))
