# Mask2Former on FlashInternImage as the ADE20K recipes of OpenGVLab/DCNv4 (mask2former_flash_
# internimage_*_160k_ade20k_ss.py) set it over their shared Mask2Former base: 200 queries, the
# pixel decoder's FFN 2048 wide, lr 1e-4 for 160k iterations, gradient clipping at 0.1, 150
# classes with the no-object weight 0.1, evaluated and saved every 5000 iterations. A config adds
# the variant, its checkpoint and the head's in_channels, and the crop of its data base.
_base_ = ['./mask2former_internimage.py', './schedule_160k.py', './default_runtime.py']

num_classes = 150
model = dict(
    backbone=dict(type='FlashInternImage'),
    decode_head=dict(
        num_queries=200, num_classes=num_classes,
        pixel_decoder=dict(encoder=dict(layer_cfg=dict(ffn_cfg=dict(feedforward_channels=2048)))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
optim_wrapper = dict(optimizer=dict(lr=1e-4), clip_grad=dict(max_norm=0.1, norm_type=2))
train_cfg = dict(val_interval=5000)
default_hooks = dict(checkpoint=dict(interval=5000))
