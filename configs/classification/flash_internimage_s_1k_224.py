# FlashInternImage-S, ImageNet-1k from scratch at 224 (published top-1 84.4; released
# flash_intern_image_s_1k_224.pth): the FlashInternImage-T recipe with drop path 0.4.
_base_ = './flash_internimage_t_1k_224.py'

model = dict(classifier=dict(arch='s', drop_path_rate=0.4))
