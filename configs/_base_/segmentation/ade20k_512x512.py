# ADE20K (150 classes, reduce_zero_label) at the published 512x512 crops: mmseg's data settings,
# 2 images per GPU (x 8 GPUs), and a multi-scale + flip test (``tta_pipeline``, run with
# ``tools/test.py --tta`` or mmseg's own ``--tta``) whose ratios scale the single-scale test
# size (2048, 512), as the published MultiScaleFlipAug did (mmseg's base scales the original).
_base_ = 'mmseg::_base_/datasets/ade20k.py'

test_scale = (2048, 512)
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale=(int(test_scale[0] * r), int(test_scale[1] * r)),
                   keep_ratio=True) for r in img_ratios],
             [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
              dict(type='RandomFlip', prob=1.0, direction='horizontal')],
             [dict(type='LoadAnnotations')],
             [dict(type='PackSegInputs')]])]
train_dataloader = dict(batch_size=2)
