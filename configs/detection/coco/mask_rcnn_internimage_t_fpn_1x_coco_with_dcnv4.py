# Mask R-CNN, InternImage-T, 1x, with the DCNv3 modules running the DCNv4 op
# (use_dcn_v4_op=True; the published config of that name, no number published: the same model
# as mask_rcnn_internimage_t_fpn_1x_coco, the same values, faster kernels on the GPU).
_base_ = ['./mask_rcnn_internimage_t_fpn_1x_coco.py']

model = dict(backbone=dict(use_dcn_v4_op=True))
