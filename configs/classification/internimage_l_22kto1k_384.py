# InternImage-L, ImageNet-22k -> 1k fine-tune at 384 (published top-1 87.7): the released
# internimage_l_22kto1k_384.pth, trained with the published configs/without_lr_decay/
# internimage_l_22kto1k_384.yaml (no layer decay; configs/classification/with_lr_decay/ has the
# published yaml that adds it). Launch as published: 32 GPUs x 16 images (total 512: lr 2e-5).
# Drop path 0.1, gradient checkpointing (TRAIN.USE_CHECKPOINT). What ran rather than what the
# yaml says: its AMP_OPT_LEVEL O0 is overridden by main.py's --amp-opt-level default O1, so the
# fine-tune ran under float16 autocast with a dynamic loss scale (AmpOptimWrapper below), its
# gradients all-reduced in float16 (main.py's DDP comm hook: FP16CompressedDDP).
# Start from the 22k checkpoint with its head mapped to 1k (the published load_pretrained maps a
# 21841-class head through map22kto1k.txt):
#   python tools/convert_checkpoint.py checkpoints/internimage_l_22k_192to384.pth \
#       l_22kto1k_init.pth --to classifier --class-indices map22kto1k.txt
# then --cfg-options load_from=l_22kto1k_init.pth.
_base_ = ['../_base_/classification/default_runtime.py',
          '../_base_/classification/imagenet_1k_384.py',
          '../_base_/classification/schedule_22kto1k_20e.py']

model = dict(
    type='ImageClassificationModel',
    classifier=dict(type='InternImageClassifier', arch='l', drop_path_rate=0.1, with_cp=True,
                    num_classes=1000))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic')
model_wrapper_cfg = dict(type='FP16CompressedDDP', broadcast_buffers=False)
