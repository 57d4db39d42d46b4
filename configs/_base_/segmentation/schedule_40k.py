# The published 40k-iteration schedule (COCO-Stuff-10k, Pascal Context, NYU Depth V2): the 80k
# one ending at 40k, validation every 2000 iterations as the published configs.
_base_ = './schedule_80k.py'

max_iters = 40000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=_base_.warmup_iters + 1),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1)]
train_cfg = dict(max_iters=max_iters, val_interval=2000)
