# Mask2Former on InternImage-H, the model the published Mask2Former-H configs share: the H
# variant (no layer scale, 5x5 depthwise, res post-norm, level-2 post-norms, center feature
# scale) with drop path 0.5, no gradient checkpointing, all four levels into the head, from the
# published H backbone (joint pre-training -> 22k, 384; fine-tunes of a whole segmentor set
# init_cfg=None and load_from):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/internimage_h_jointto22k_384.pth
# The head
# is Mask2Former's standard size (256-d, 100 queries: Mapillary, Cityscapes, NYU, Pascal Context);
# mask2former_internimage_h_1024d.py widens it (COCO-Stuff, ADE20K). A config sets num_classes
# with the class weights, the crop size, the data and the schedule.
_base_ = ['./mask2former_internimage.py', './default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    backbone=dict(arch='h', drop_path_rate=0.5,
                  init_cfg=dict(type='Pretrained',
                                checkpoint='checkpoints/internimage_h_jointto22k_384.pth')),
    decode_head=dict(in_channels=level_channels('h')))
