# UperNet, FlashInternImage-T, 512x512, 160k (published mIoU 49.3 single-scale / 50.3
# multi-scale; released upernet_flash_internimage_t_512_160k_ade20k.pth): the InternImage-T
# recipe on FlashInternImage-T with gradient checkpointing; 8 GPUs x 2 images. As published,
# its test resizes to 2048x512 without the resize to a multiple of 32 the other ADE20K recipes
# have (the published config leaves its own test pipeline commented out). Pretrained backbone:
# https://huggingface.co/OpenGVLab/DCNv4/resolve/main/flash_intern_image_t_1k_224.pth
_base_ = './upernet_internimage_t_512_160k_ade20k.py'

from segmentation.test_time import multi_scale_flip_test  # noqa: E402

test_scale = (2048, 512)
model = dict(
    backbone=dict(
        type='FlashInternImage', with_cp=True,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/flash_intern_image_t_1k_224.pth')))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
tta_pipeline = multi_scale_flip_test(test_scale)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
