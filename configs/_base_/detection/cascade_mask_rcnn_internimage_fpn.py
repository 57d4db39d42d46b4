# Cascade Mask R-CNN + FPN (mmdet's) on an InternImage backbone, with the published box heads of
# the InternImage-L/XL configs: per stage 4 shared convs + 1 fc (SyncBN), GIoU regression on
# decoded boxes (weight 10). Backbone settings as in mask_rcnn_internimage_fpn.py.
_base_ = 'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py'

cascade_target_stds = [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                       [0.033, 0.033, 0.067, 0.067]]
model = dict(
    backbone=dict(_delete_=True, type='InternImage', layer_scale=1.0),
    roi_head=dict(bbox_head=[
        dict(type='ConvFCBBoxHead',
             num_shared_convs=4,
             num_shared_fcs=1,
             in_channels=256,
             conv_out_channels=256,
             fc_out_channels=1024,
             roi_feat_size=7,
             num_classes=80,
             bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0, 0.0, 0.0, 0.0],
                             target_stds=stds),
             reg_class_agnostic=False,
             reg_decoded_bbox=True,
             norm_cfg=dict(type='SyncBN', requires_grad=True),
             loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
             loss_bbox=dict(type='GIoULoss', loss_weight=10.0))
        for stds in cascade_target_stds]))
