# Mask2Former, InternImage-H, ADE20K 896x896, fine-tuned for 80k iterations from the COCO-Stuff
# model, 16 GPUs x 1 image (published mIoU single-scale / multi-scale: 62.5 / 62.9;
# multi-scale with --tta, at the published ratios 768/896 .. 1024/896 with flips).
# AdamW lr 1e-5 with layer decay 0.95, gradient clipping at norm 0.1, validation every 2000.
# Semantic setting (mmseg's Mask2Former); the panoptic one needs panopticapi.
# COCO-Stuff-164k model to start from (published, mmseg 0.x key names: convert before use):
# https://huggingface.co/OpenGVLab/InternImage/resolve/main/mask2former_internimage_h_896_80k_cocostuff164k.pth
_base_ = ['../../_base_/segmentation/mask2former_internimage.py',
          '../../_base_/segmentation/ade20k_896x896.py',
          '../../_base_/segmentation/schedule_160k.py',
          '../../_base_/segmentation/default_runtime.py']

from classification.models.variants import level_channels  # noqa: E402

num_classes = 150
crop_size = (896, 896)
max_iters = 80000
# the published head size: 1024-d, 32 heads, 4096-d feed-forward layers, 200 queries
attention = dict(embed_dims=1024, num_heads=32)
ffn = dict(embed_dims=1024, feedforward_channels=4096)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='h', drop_path_rate=0.5),
    decode_head=dict(
        in_channels=level_channels('h'), feat_channels=1024, out_channels=1024,
        num_queries=200, num_classes=num_classes,
        pixel_decoder=dict(encoder=dict(layer_cfg=dict(self_attn_cfg=attention, ffn_cfg=ffn)),
                           positional_encoding=dict(num_feats=512)),
        positional_encoding=dict(num_feats=512),
        transformer_decoder=dict(layer_cfg=dict(self_attn_cfg=attention,
                                                cross_attn_cfg=attention, ffn_cfg=ffn)),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
load_from = 'checkpoints/mask2former_internimage_h_896_80k_cocostuff164k.pth'

optim_wrapper = dict(optimizer=dict(lr=1e-5), paramwise_cfg=dict(layer_decay_rate=0.95),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=_base_.warmup_iters),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=_base_.warmup_iters,
         end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=2000)

tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale=(int(_base_.test_scale[0] * r),
                                         int(_base_.test_scale[1] * r)), keep_ratio=True)
              for r in (768 / 896, 832 / 896, 1.0, 960 / 896, 1024 / 896)],
             [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
              dict(type='RandomFlip', prob=1.0, direction='horizontal')],
             [dict(type='LoadAnnotations')],
             [dict(type='PackSegInputs')]])]
