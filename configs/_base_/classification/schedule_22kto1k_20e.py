# The published ImageNet-22k -> 1k fine-tune schedule (the L/XL/H/G 22kto1k yamls over the
# config.py defaults): AdamW lr 2e-5 per 512 images, 20 epochs, a 2-epoch warm-up from 0 laid over
# a cosine to 0, weight decay 0.05, clipping at 5, EMA 0.9999, no Mixup or CutMix, label
# smoothing 0.3. No layer decay: the released models come from the published
# configs/without_lr_decay yamls; their DCN_LR_MUL 0.1 is stated but does nothing there (the
# published optimizer.py applies it only with LR_LAYER_DECAY), as here.
_base_ = './schedule_in1k_300e.py'

max_epochs = 20
warmup_epochs = 2

optim_wrapper = dict(optimizer=dict(lr=2e-5),
                     paramwise_cfg=dict(lr_layer_decay=False, dcn_lr_mul=0.1))
param_scheduler = [
    dict(type='TimmCosineLR', warmup=warmup_epochs, warmup_lr_ratio=0.0, min_lr_ratio=0.0,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs)
model = dict(mixup=None, label_smoothing=0.3)
