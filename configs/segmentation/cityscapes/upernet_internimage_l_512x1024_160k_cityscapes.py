# UperNet, InternImage-L, Cityscapes 512x1024 crops, 160k iterations, 8 GPUs x 2 images
# (published mIoU single-scale / multi-scale: 83.68 / 84.41; multi-scale with --tta).
# 19 classes: the published config said 150, which only left unused logits.
_base_ = ['../../_base_/segmentation/upernet_internimage_l.py',
          'mmseg::_base_/datasets/cityscapes.py']

crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=19),
             auxiliary_head=dict(num_classes=19))
