# The SegFormer head (mmseg's SegformerHead: a 1x1 conv per level to 256 channels, upsampled to
# stride 4, concatenated, fused by a 1x1 conv, dropout 0.1, SyncBN) on InternImage-L, the recipe
# the published Mapillary and Mapillary -> Cityscapes configs share: layer scale 1.0, drop path
# 0.4, AdamW lr 2e-5 with layer decay 0.94, gradient clipping at norm 0.1, whole-image test.
# 150 output classes as in the published configs (which kept the ADE20K head size for Mapillary
# and Cityscapes): the released checkpoints have 150 logits; the dataset's classes are the
# first ones and the rest never match a label, as in the published evaluation.
_base_ = ['mmseg::_base_/models/segformer_mit-b0.py', './schedule_160k.py',
          './default_runtime.py']

from internimage.models.variants import level_channels  # noqa: E402

model = dict(
    pretrained=None,
    data_preprocessor=dict(size=(512, 1024)),  # the crop size; test images are not padded
    backbone=dict(_delete_=True, type='InternImage', arch='l', layer_scale=1.0,
                  drop_path_rate=0.4),
    decode_head=dict(in_channels=level_channels('l'), num_classes=150),
    test_cfg=dict(mode='whole'))
optim_wrapper = dict(optimizer=dict(lr=2e-5), paramwise_cfg=dict(layer_decay_rate=0.94),
                     clip_grad=dict(max_norm=0.1, norm_type=2))
