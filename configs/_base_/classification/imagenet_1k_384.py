# ImageNet-1k at 384 for the 22k -> 1k fine-tunes: resize to the full image at test time
# (crop_pct 1.0) and a smaller per-GPU batch.
_base_ = './imagenet_1k.py'

train_dataloader = dict(batch_size=32, dataset=dict(transform=dict(input_size=384)))
val_dataloader = dict(batch_size=32,
                      dataset=dict(transform=dict(input_size=384, crop_pct=1.0)))
test_dataloader = val_dataloader
