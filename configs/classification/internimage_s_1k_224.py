# InternImage-S, ImageNet-1k from scratch at 224 (published top-1 84.2).
_base_ = './internimage_t_1k_224.py'

model = dict(classifier=dict(channels=80, depths=[4, 4, 21, 4], groups=[5, 10, 20, 40],
                             layer_scale=1e-5, post_norm=True, drop_path_rate=0.4))
