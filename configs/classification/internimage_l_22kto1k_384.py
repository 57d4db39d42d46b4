# InternImage-L, ImageNet-22k -> 1k fine-tune at 384 (published top-1 87.7). Start from the 22k
# checkpoint with its head mapped to 1k:
#   python tools/convert_checkpoint.py l_22k.pth l_22kto1k_init.pth --to classifier \
#       --class-indices map22kto1k.txt
# then --cfg-options load_from=l_22kto1k_init.pth. drop_path_rate 0.1 is our choice.
_base_ = ['../_base_/classification/default_runtime.py',
          '../_base_/classification/imagenet_1k_384.py',
          '../_base_/classification/schedule_22kto1k_20e.py']

model = dict(
    type='ImageClassificationModel',
    classifier=dict(type='InternImageClassifier', arch='l', drop_path_rate=0.1,
                    num_classes=1000))
