# Mask2Former, InternImage-H, ADE20K 896x896, fine-tuned for 80k iterations from the COCO-Stuff
# model, 16 GPUs x 1 image (published mIoU single-scale / multi-scale: 62.5 / 62.9; the
# multi-scale number is the _ms config's, at ratios 768/896 .. 1024/896 with flips; --tta runs
# the published --aug-test, ratios 0.5 .. 1.75). The published wide head (1024-d, 200 queries), AdamW lr 1e-5 with layer decay 0.95,
# gradient clipping at norm 0.1, validation every 2000.
# Semantic setting (mmseg's Mask2Former); the panoptic one needs panopticapi.
# COCO-Stuff-164k model to start from (published layout: tools/train.py converts it in memory):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/mask2former_internimage_h_896_80k_cocostuff164k.pth
_base_ = ['../../_base_/segmentation/mask2former_internimage_h_1024d.py',
          '../../_base_/segmentation/ade20k_896x896.py',
          '../../_base_/segmentation/schedule_80k.py']

num_classes = 150
model = dict(
    backbone=dict(init_cfg=None),
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(num_classes=num_classes,
                     loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
load_from = 'checkpoints/mask2former_internimage_h_896_80k_cocostuff164k.pth'

optim_wrapper = dict(optimizer=dict(lr=1e-5), paramwise_cfg=dict(layer_decay_rate=0.95),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
train_cfg = dict(val_interval=2000)
