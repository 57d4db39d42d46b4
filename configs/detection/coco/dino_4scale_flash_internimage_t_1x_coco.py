# DINO 4-scale, FlashInternImage-T, 1x with layer-wise lr decay 0.9 (published box mAP 54.7;
# released dino_4scale_flash_internimage_t_1x_coco.pth): the InternImage-T recipe on
# FlashInternImage-T with 4 images per GPU, lr 2e-4 and 300 boxes kept per image, as published;
# 8 GPUs x 4 images. Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_t_1k_224.pth
_base_ = './dino_4scale_internimage_t_1x_coco.py'

model = dict(
    backbone=dict(
        type='FlashInternImage',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_t_1k_224.pth')),
    test_cfg=dict(max_per_img=300))
train_dataloader = dict(batch_size=4)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
auto_scale_lr = dict(base_batch_size=32)
