# UperNet, InternImage-XL, ADE20K 640x640, 160k iterations, 8 GPUs x 2 images
# (published mIoU single-scale / multi-scale: 55.0 / 55.3; multi-scale with --tta).
_base_ = ['../../_base_/segmentation/upernet_internimage_xl.py',
          '../../_base_/segmentation/ade20k_640x640.py']

crop_size = (640, 640)
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=150),
             auxiliary_head=dict(num_classes=150))
