# DINO 4-scale, InternImage-G, Objects365 -> COCO fine-tuning (the published recipe; see the
# _base_ file). Set `load_from` to the Objects365-pretrained detector.
_base_ = '../../_base_/detection/dino_4scale_internimage_o365_to_coco.py'

model = dict(
    backbone=dict(
        channels=512, depths=[2, 2, 48, 4], groups=[16, 32, 64, 128], layer_scale=None,
        offset_scale=1.0, post_norm=True, res_post_norm=False, dw_kernel_size=5,
        level2_post_norm=True, level2_post_norm_block_ids=[5, 11, 17, 23, 29, 35, 41, 47],
        center_feature_scale=True),
    neck=dict(in_channels=[1024, 2048, 4096]))
