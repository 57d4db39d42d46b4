# ImageNet-1k for the published 22k -> 1k fine-tunes, at 384: their yamls set AUG.REPROB 0.0 (no
# random erasing; Mixup/CutMix are off in schedule_22kto1k_20e.py), the evaluation is the
# resize + centre crop of imagenet_1k.py at the fine-tune's size; 16 images per GPU (the
# published launches: 32 GPUs x 16 for L, XL and H).
_base_ = './imagenet_1k.py'

train_dataloader = dict(batch_size=16,
                        dataset=dict(transform=dict(input_size=384, re_prob=0.0)))
val_dataloader = dict(batch_size=16, dataset=dict(transform=dict(input_size=384)))
test_dataloader = val_dataloader
