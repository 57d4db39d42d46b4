# DINO 4-scale, InternImage-L, 1x with the backbone at 0.1x the lr instead of layer-wise decay
# (the published "0.1x_backbone_lr" recipe, box mAP 57.6 on COCO val2017). Published file:
# dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr.pth. The optimizer as published: mmengine's
# default constructor (every parameter, biases and norms included, at weight decay 0.05; the
# backbone's at 0.1x the lr), not the layer-wise decay one.
_base_ = './dino_4scale_internimage_l_1x_coco.py'

optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
                     clip_grad=dict(max_norm=0.1, norm_type=2),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
