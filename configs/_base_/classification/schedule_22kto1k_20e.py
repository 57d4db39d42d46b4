# The published ImageNet-22k -> 1k fine-tune: 20 epochs, AdamW lr 2e-5 (per 512 images, scaled by
# auto_scale_lr), layer-wise lr decay 0.9, the DCNv3 offset/mask projections at 0.1x their
# layer's lr (published DCN_LR_MUL 0.1), label smoothing 0.3, EMA, two warm-up epochs, no Mixup
# or CutMix (all published: the L/XL/H/G 22kto1k configs).
_base_ = './schedule_in1k_300e.py'

max_epochs = 20
warmup_epochs = 2

optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.9,
                                                                  offset_lr_scale=0.1))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-7, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs)
model = dict(mixup=None, label_smoothing=0.3)
