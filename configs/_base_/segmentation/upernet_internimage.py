# UperNet (mmseg's UPerHead + FCN auxiliary head on level 2) on an InternImage backbone, with the
# setting the published segmentation configs of T..XL change from the variant table: layer scale
# 1.0 (all four levels go to the decoder). A config adds the variant (arch), its drop path, the
# pretrained checkpoint, the heads' in_channels (level_channels of the arch) and num_classes,
# and the crop size of the data preprocessor. Test images are not padded: as published, the
# ADE20K test pipelines resize them to a multiple of 32 (ResizeToMultiple) and the Cityscapes and
# Mapillary ones test them at their resized size.
_base_ = 'mmseg::_base_/models/upernet_r50.py'

model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, type='InternImage', layer_scale=1.0),
    test_cfg=dict(mode='whole'))
