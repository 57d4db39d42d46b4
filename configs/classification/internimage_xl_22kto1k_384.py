# InternImage-XL, ImageNet-22k -> 1k fine-tune at 384 (published top-1 88.0); see the L config
# for the initial checkpoint. drop_path_rate 0.2 is our choice.
_base_ = './internimage_l_22kto1k_384.py'

model = dict(classifier=dict(arch='xl', drop_path_rate=0.2))
