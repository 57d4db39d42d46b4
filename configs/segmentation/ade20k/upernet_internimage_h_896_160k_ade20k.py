# UperNet, InternImage-H, ADE20K 896x896, 160k iterations, 16 GPUs x 1 image (published mIoU
# single-scale / multi-scale: 59.9 / 60.3; multi-scale with --tta). Drop path 0.5, no gradient
# checkpointing as the published config (with_cp=True trades compute for memory), AdamW
# lr 2e-5 with layer decay 0.95, gradient clipping at norm 0.1.
_base_ = ['../../_base_/segmentation/upernet_internimage.py',
          '../../_base_/segmentation/ade20k_896x896.py',
          '../../_base_/segmentation/schedule_160k.py',
          '../../_base_/segmentation/default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

crop_size = (896, 896)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='h', layer_scale=None, drop_path_rate=0.5, with_cp=False,  # no T..XL layer scale
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/internimage_h_jointto22k_384.pth')),
    decode_head=dict(in_channels=level_channels('h'), num_classes=150),
    auxiliary_head=dict(in_channels=level_channels('h', out_indices=(2,))[0], num_classes=150))
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.95),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
