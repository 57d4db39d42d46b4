# FlashInternImage-T, ImageNet-1k from scratch at 224 (published top-1 83.6; released
# flash_intern_image_t_1k_224.pth, published yaml OpenGVLab/DCNv4 classification/configs/
# flash_intern_image_t_1k_224.yaml): the InternImage-T recipe (the published config.py defaults
# and main.py are InternImage's: 300 epochs, lr 5e-4 per 512 images, EMA, float16 autocast,
# float16-compressed gradient all-reduce) on FlashInternImage-T with drop path 0.1.
# What differs in the published DCNv4 main.py: validation runs under the training autocast
# (float16), where InternImage's ran in float32 (val_cfg/test_cfg fp16 below).
# Launch as published: 8 GPUs x 128 images (its README trains "with 8 GPU on a single node",
# train_in1k.sh passes --batch-size 128), a total batch of 1024: lr 5e-4 * 1024 / 512 = 1e-3.
_base_ = './internimage_t_1k_224.py'

model = dict(classifier=dict(type='FlashInternImageClassifier', arch='t', drop_path_rate=0.1))
val_cfg = dict(fp16=True)
test_cfg = dict(fp16=True)
