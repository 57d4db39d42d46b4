# The InternImage-H backbone of the published segmentation configs (a fragment to merge into
# ``model.backbone``): the H extras (5x5 depthwise kernel in the offset/mask branch,
# res_post_norm, post norms after level-2 blocks 5, 11, .., 29, center_feature_scale), no layer
# scale, all four levels out. Its 22k checkpoint (joint 427M pretraining, 384):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_h_jointto22k_384.pth
internimage_h = dict(
    type='InternImage', core_op='DCNv3', channels=320, depths=[6, 6, 32, 6],
    groups=[10, 20, 40, 80], mlp_ratio=4.0, norm_layer='LN', layer_scale=None, offset_scale=1.0,
    post_norm=False, dw_kernel_size=5, res_post_norm=True, level2_post_norm=True,
    level2_post_norm_block_ids=[5, 11, 17, 23, 29], center_feature_scale=True,
    out_indices=(0, 1, 2, 3))
