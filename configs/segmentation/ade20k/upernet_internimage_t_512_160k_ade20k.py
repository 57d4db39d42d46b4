# UperNet, InternImage-T, ADE20K 512x512, 160k iterations, 8 GPUs x 2 images
# (published mIoU single-scale / multi-scale: 47.9 / 48.1; multi-scale with --tta).
_base_ = ['../../_base_/segmentation/upernet_internimage_t.py',
          '../../_base_/segmentation/ade20k_512x512.py']

crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(num_classes=150),
             auxiliary_head=dict(num_classes=150))
