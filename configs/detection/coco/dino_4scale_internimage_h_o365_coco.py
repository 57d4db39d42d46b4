# DINO 4-scale, InternImage-H, Objects365 -> COCO fine-tuning (the published recipe; see the
# _base_ file). Set `load_from` to the Objects365-pretrained detector.
_base_ = '../../_base_/detection/dino_4scale_internimage_o365_to_coco.py'

model = dict(
    backbone=dict(
        channels=320, depths=[6, 6, 32, 6], groups=[10, 20, 40, 80], layer_scale=None,
        offset_scale=1.0, post_norm=False, res_post_norm=True, dw_kernel_size=5,
        level2_post_norm=True, level2_post_norm_block_ids=[5, 11, 17, 23, 29],
        center_feature_scale=True),
    neck=dict(in_channels=[640, 1280, 2560]))
