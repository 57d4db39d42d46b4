# The published from-scratch schedule (config.py defaults, as main.py, optimizer.py and
# lr_scheduler.py apply them): AdamW (betas 0.9/0.999, eps 1e-8) lr 5e-4 per 512 images, scaled
# linearly to the total batch (auto_scale_lr; the warm-up start 5e-7 and the floor 5e-6 scale
# with it: ratios 1e-3 and 1e-2 of the lr), weight decay 0.05 except on 1-D parameters and
# biases, every parameter at the same lr (no layer decay), 300 epochs with a 20-epoch warm-up
# laid over a per-iteration cosine (TimmCosineLR: timm's CosineLRScheduler as stepped there),
# gradient-norm clipping at 5, EMA of weights and buffers with decay 0.9999 updated every
# iteration, Mixup 0.8 / CutMix 1.0 (always one of them, switch probability 0.5, per batch) with
# label smoothing 0.1.
max_epochs = 300
warmup_epochs = 20

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    constructor='ClassificationLayerDecayConstructor',
    paramwise_cfg=dict(lr_layer_decay=False),
    clip_grad=dict(max_norm=5.0))
auto_scale_lr = dict(enable=True, base_batch_size=512)

param_scheduler = [
    dict(type='TimmCosineLR', warmup=warmup_epochs, warmup_lr_ratio=5e-7 / 5e-4,
         min_lr_ratio=5e-6 / 5e-4, by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True)]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()

custom_hooks = [dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=1e-4,
                     update_buffers=True, priority='ABOVE_NORMAL')]

model = dict(mixup=dict(mixup_alpha=0.8, cutmix_alpha=1.0, prob=1.0, switch_prob=0.5,
                        mode='batch', label_smoothing=0.1, num_classes=1000))
