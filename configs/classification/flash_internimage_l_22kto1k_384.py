# FlashInternImage-L, ImageNet-22k -> 1k fine-tune at 384 (published top-1 88.1; released
# flash_internimage_l_22kto1k_384.pth, published yaml OpenGVLab/DCNv4 classification/configs/
# flash_intern_image_l_22kto1k_384.yaml): the InternImage-L fine-tune (20 epochs, lr 2e-5 per 512
# images, label smoothing 0.3, no mixup, gradient checkpointing, float16 autocast) with the
# layer-wise lr decay its yaml turns on (ratio 0.9; DCN_LR_MUL 0.1 then acts on every name with
# "offset": here the whole offset_mask projection and its depthwise conv, mask values included),
# validation under the training autocast as the published DCNv4 main.py ran it.
_base_ = './internimage_l_22kto1k_384.py'

model = dict(classifier=dict(type='FlashInternImageClassifier', arch='l', drop_path_rate=0.1,
                             with_cp=True))
optim_wrapper = dict(paramwise_cfg=dict(lr_layer_decay=True, lr_layer_decay_ratio=0.9,
                                        dcn_lr_mul=0.1))
val_cfg = dict(fp16=True)
test_cfg = dict(fp16=True)
