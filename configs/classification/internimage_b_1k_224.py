# InternImage-B, ImageNet-1k from scratch at 224 (published top-1 84.9).
_base_ = './internimage_t_1k_224.py'

model = dict(classifier=dict(arch='b', drop_path_rate=0.5))
