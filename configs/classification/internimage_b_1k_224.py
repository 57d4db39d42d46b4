# InternImage-B, ImageNet-1k from scratch at 224 (published top-1 84.9).
_base_ = './internimage_t_1k_224.py'

model = dict(classifier=dict(channels=112, depths=[4, 4, 21, 4], groups=[7, 14, 28, 56],
                             layer_scale=1e-5, post_norm=True, drop_path_rate=0.5))
