# UperNet (mmseg's UPerHead + FCN auxiliary head on level 2) on an InternImage backbone, with the
# settings shared by the published segmentation configs: LN, layer scale 1.0 (T..XL), all four
# levels to the decoder, the compiled DCNv3 op. A config adds the variant (channels, depths,
# groups, drop path, post_norm, offset_scale, ...), the pretrained checkpoint, the heads'
# in_channels and num_classes, and the crop size of the data preprocessor. Test images are
# padded to a multiple of 32 (the published pipeline resized them to one).
_base_ = 'mmseg::_base_/models/upernet_r50.py'

model = dict(
    pretrained=None,
    data_preprocessor=dict(test_cfg=dict(size_divisor=32)),
    backbone=dict(
        _delete_=True,
        type='InternImage',
        core_op='DCNv3',
        mlp_ratio=4.0,
        norm_layer='LN',
        layer_scale=1.0,
        out_indices=(0, 1, 2, 3),
        with_cp=False),
    test_cfg=dict(mode='whole'))
