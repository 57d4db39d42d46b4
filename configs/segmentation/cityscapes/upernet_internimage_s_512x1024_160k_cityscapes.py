# UperNet, InternImage-S, Cityscapes 512x1024 crops, 160k iterations, 8 GPUs x 2 images
# (published mIoU single-scale / multi-scale: 82.74 / 83.45; multi-scale with --tta).
# 150 output channels, as the published config has them (num_classes=150 in both heads, an
# ADE20K leftover) and so the model that produced the released checkpoint: rows 0..18 of the
# heads' conv_seg are the Cityscapes train ids, the other 131 logits are only ever trained
# down. Evaluation still counts the data set's 19 classes: the prediction is the argmax over all
# 150 logits (mmseg 0.27, which the published code ran, and mmseg 1.x alike) and IoUMetric bins
# predictions into the 19 classes, so a pixel predicted as 19..149 is wrong for its true class
# and no class's prediction, as in the published evaluation.
_base_ = ['../../_base_/segmentation/upernet_internimage_s.py',
          '../../_base_/segmentation/cityscapes_512x1024.py']

crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=150),
             auxiliary_head=dict(num_classes=150))
