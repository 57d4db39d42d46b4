# InternImage-XL, ImageNet-22k -> 1k fine-tune at 384 (published top-1 88.0): the released
# internimage_xl_22kto1k_384.pth, trained with the published configs/without_lr_decay/
# internimage_xl_22kto1k_384.yaml: the L recipe (32 GPUs x 16, no layer decay, float16
# autocast) with drop path 0.2, from checkpoints/internimage_xl_22k_192to384.pth (head mapped
# to 1k as in the L config).
_base_ = './internimage_l_22kto1k_384.py'

model = dict(classifier=dict(arch='xl', drop_path_rate=0.2))
