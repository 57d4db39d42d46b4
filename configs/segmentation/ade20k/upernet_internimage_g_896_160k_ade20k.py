# UperNet, InternImage-G, ADE20K 896x896, 160k iterations, 16 GPUs x 1 image (published config
# upernet_internimage_g_896_160k_ade20k.py; its README lists no metric and no checkpoint). The H
# recipe (lr 2e-5, layer decay 0.95, clipping 0.1, drop path 0.5) with gradient checkpointing
# (as the published G config) and the G backbone pre-trained on the 22k data at 384:
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_g_pretrainto22k_384.pth
_base_ = './upernet_internimage_h_896_160k_ade20k.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='g', with_cp=True,
                  init_cfg=dict(checkpoint='checkpoints/internimage_g_pretrainto22k_384.pth')),
    decode_head=dict(in_channels=level_channels('g')),
    auxiliary_head=dict(in_channels=level_channels('g', out_indices=(2,))[0]))
