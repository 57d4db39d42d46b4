# InternImage-B, ImageNet-1k from scratch at 224 (published top-1 84.9; released
# internimage_b_1k_224.pth, published yaml configs/without_lr_decay/internimage_b_1k_224.yaml):
# the T recipe (32 GPUs x 128, float16 autocast) with drop path 0.5.
_base_ = './internimage_t_1k_224.py'

model = dict(classifier=dict(arch='b', drop_path_rate=0.5))
