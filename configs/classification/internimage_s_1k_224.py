# InternImage-S, ImageNet-1k from scratch at 224 (published top-1 84.2; released
# internimage_s_1k_224.pth, published yaml configs/without_lr_decay/internimage_s_1k_224.yaml):
# the T recipe (32 GPUs x 128, float16 autocast) with drop path 0.4.
_base_ = './internimage_t_1k_224.py'

model = dict(classifier=dict(arch='s', drop_path_rate=0.4))
