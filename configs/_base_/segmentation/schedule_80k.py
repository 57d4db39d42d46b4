# The published 80k-iteration schedule (Mapillary, COCO-Stuff-164k, Mask2Former fine-tunes): the
# 160k one (AdamW, layer-wise lr decay, 1500 linear warm-up iterations, poly decay to 0) ending at
# 80k, validation every 8000 iterations (configs change the interval as published).
_base_ = './schedule_160k.py'

max_iters = 80000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=_base_.warmup_iters + 1),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1)]
train_cfg = dict(max_iters=max_iters, val_interval=8000)
