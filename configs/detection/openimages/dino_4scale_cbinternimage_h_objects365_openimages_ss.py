# DINO on CB-InternImage-H, Objects365 -> OpenImages V6 (601 classes), mAP on the validation set
# (published 74.1 single-scale; published file
# dino_4scale_cbinternimage_h_objects365_openimages.pth). The COCO system's model and optimizer
# on mmdet's OpenImagesDataset (boxes given normalised, scaled by the image metas) with a
# class-aware sampler (one image per sampled class) as published, images without boxes
# dropped, 100k iterations, evaluation and checkpoints every 2000 (3 kept); mmdet's
# OpenImagesMetric (IoU 0.5, IoA 0.5 for group-of boxes, super-categories from the hierarchy).
# Not reproduced: the published head's SNIP training option.
_base_ = ['../coco/dino_4scale_cbinternimage_h_o365_coco.py',
          '../../_base_/detection/dino_o365_transfer.py']

data_root = 'data/OpenImages/'
load_from = _base_.o365_detector
model = dict(bbox_head=dict(num_classes=601))
openimages = dict(type='OpenImagesDataset', data_root=data_root,
                  label_file='annotations/class-descriptions-boxable.csv',
                  hierarchy_file='annotations/bbox_labels_600_hierarchy.json')
train_dataloader = dict(
    _delete_=True, **_base_.transfer_train_loader, dataset=dict(
        openimages, ann_file='annotations/oidv6-train-annotations-bbox.csv',
        data_prefix=dict(img='OpenImages/train/'),
        meta_file='annotations/train-image-metas.pkl',
        filter_cfg=dict(filter_empty_gt=True), pipeline=_base_.transfer_train_pipeline))
train_dataloader.update(sampler=dict(type='ClassAwareSampler', num_sample_class=1))
val_dataloader = dict(
    _delete_=True, **_base_.transfer_test_loader, dataset=dict(
        openimages, ann_file='annotations/validation-annotations-bbox.csv',
        data_prefix=dict(img='OpenImages/validation/'),
        meta_file='annotations/validation-image-metas.pkl',
        image_level_ann_file='annotations/validation-annotations-human-imagelabels-boxable.csv',
        test_mode=True,
        pipeline=[*_base_.transfer_test_pipeline[:-1],
                  dict(type='PackDetInputs',
                       meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                  'scale_factor', 'instances', 'image_level_labels'))]))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='OpenImagesMetric', iou_thrs=0.5, ioa_thrs=0.5,
                     use_group_of=True, get_supercategory=True)
test_evaluator = val_evaluator

train_cfg = dict(max_iters=100000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
