# FlashInternImage-B, ImageNet-1k from scratch at 224 (published top-1 84.9; released
# flash_intern_image_b_1k_224.pth): the FlashInternImage-T recipe with drop path 0.5.
_base_ = './flash_internimage_t_1k_224.py'

model = dict(classifier=dict(arch='b', drop_path_rate=0.5))
