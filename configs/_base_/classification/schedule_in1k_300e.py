# The published from-scratch recipe: AdamW lr 5e-4 per 512 images (scaled to the real total batch
# by auto_scale_lr), wd 0.05 without decay on 1-D weights and biases, 20 warmup epochs then cosine,
# both stepped per iteration, grad clip 5, EMA 0.9999, Mixup 0.8 / CutMix 1.0, smoothing 0.1.
max_epochs = 300
warmup_epochs = 20

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    constructor='InternImageLayerDecayConstructor',
    paramwise_cfg=dict(layer_decay_rate=1.0),
    clip_grad=dict(max_norm=5.0))
auto_scale_lr = dict(enable=True, base_batch_size=512)

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs,
         end=max_epochs, convert_to_iter_based=True)]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()

custom_hooks = [dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=1e-4,
                     update_buffers=True, priority='ABOVE_NORMAL')]

model = dict(mixup=dict(mixup_alpha=0.8, cutmix_alpha=1.0, prob=1.0, switch_prob=0.5,
                        mode='batch', label_smoothing=0.1, num_classes=1000))
