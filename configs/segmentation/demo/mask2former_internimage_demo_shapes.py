# Mask2Former on the embedded demo data: a small InternImage (32 channels) with a narrow
# Mask2Former head (32-d, 4 heads, 64-d feed-forward layers, 20 queries, 2 encoder and 3 decoder
# layers, 3136 sampled points), trained from scratch on a CPU: it shows the Mask2Former path end
# to end (train, test, --tta, image demo) in minutes; the UperNet demo is the tuned one.
_base_ = ['../../_base_/segmentation/mask2former_internimage.py',
          '../../_base_/segmentation/shapes_128x128.py',
          '../../_base_/segmentation/schedule_160k.py',
          '../../_base_/segmentation/default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

num_classes = 5  # background + 4 shape kinds (internimage.demo_data.segmentation.CLASSES)
max_iters = 400
warmup_iters = 40
attention = dict(embed_dims=32, num_heads=4)
ffn = dict(embed_dims=32, feedforward_channels=64)
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(arch='t', channels=32, depths=[1, 1, 2, 1], groups=[2, 4, 8, 16],
                  layer_scale=None),
    decode_head=dict(
        in_channels=level_channels('t', channels=32), feat_channels=32, out_channels=32,
        num_queries=20, num_classes=num_classes,
        pixel_decoder=dict(
            encoder=dict(num_layers=2, layer_cfg=dict(self_attn_cfg=attention, ffn_cfg=ffn)),
            positional_encoding=dict(num_feats=16)),
        positional_encoding=dict(num_feats=16),
        transformer_decoder=dict(num_layers=3, layer_cfg=dict(
            self_attn_cfg=attention, cross_attn_cfg=attention, ffn_cfg=ffn)),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
        train_cfg=dict(num_points=3136)))

optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=max_iters, save_best=None))
randomness = dict(seed=0)
