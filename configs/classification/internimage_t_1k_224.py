# InternImage-T, ImageNet-1k from scratch at 224 (published top-1 83.5): the released
# internimage_t_1k_224.pth, trained with the published configs/without_lr_decay/
# internimage_t_1k_224.yaml (the same as configs/internimage_t_1k_224.yaml for T/S/B).
# Launch as published: 32 GPUs x 128 images (or 8 x 512), a total batch of 4096, so that
# auto_scale_lr gives lr 5e-4 * 4096 / 512 = 4e-3 as the published main.py did.
# What ran rather than what the yaml says: main.py's --amp-opt-level defaults to O1 and overrides
# the config's AMP_OPT_LEVEL, so training ran under float16 autocast with a dynamic loss scale
# (AmpOptimWrapper below: it needs a GPU), and main.py registers a float16-compressing gradient
# all-reduce on its DDP (FP16CompressedDDP; model_wrapper_cfg=None for mmengine's plain DDP).
# Not reproduced: the published loader's node-local sampler and in-memory image cache
# (IMG_ON_MEMORY), timm 0.6.11's augmentation code (timm 1.x here), and the EMA's first step
# (timm's ModelEma starts from the initial weights, mmengine's EMA from those after step 1).
_base_ = ['../_base_/classification/default_runtime.py',
          '../_base_/classification/imagenet_1k.py',
          '../_base_/classification/schedule_in1k_300e.py']

model = dict(
    type='ImageClassificationModel',
    classifier=dict(type='InternImageClassifier', arch='t', drop_path_rate=0.1,
                    num_classes=1000))
optim_wrapper = dict(type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic')
model_wrapper_cfg = dict(type='FP16CompressedDDP', broadcast_buffers=False)
