# InternImage-T, ImageNet-1k from scratch at 224 (published top-1 83.5).
_base_ = ['../_base_/classification/default_runtime.py',
          '../_base_/classification/imagenet_1k.py',
          '../_base_/classification/schedule_in1k_300e.py']

model = dict(
    type='ImageClassificationModel',
    classifier=dict(type='InternImageClassifier', arch='t', drop_path_rate=0.1,
                    num_classes=1000))
