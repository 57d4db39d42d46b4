"""The parts the FlashInternImage detection and segmentation recipes add (OpenGVLab/DCNv4):
the FPN_vitdet neck against the published forward written from facts, the backbone's EMA-first
checkpoint loading, and the DCNv4 release's offset_mask rule of the layer-decay constructors."""
import logging

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import detection  # noqa: F401  (registers FPN_vitdet)
import internimage.engine  # noqa: F401  (registers the layer-decay constructor)
from dcnv3_cases import perturbed
from internimage.engine.layer_decay import InternImageLayerDecayConstructor
from internimage.models import FlashInternImage, create_classifier


def channels_layer_norm(x, norm):
    """LayerNorm over the channels of every pixel (the published ConvModule_Norm's 'LN')."""
    return F.layer_norm(x.permute(0, 2, 3, 1), norm.normalized_shape, norm.weight, norm.bias,
                        norm.eps).permute(0, 3, 1, 2)


def published_fpn_vitdet(neck, inputs):
    """The published FPN_vitdet forward (use_residual=True, no extra convs): lateral 1x1 conv
    (no bias) + LN, top-down nearest upsampling added level by level, 3x3 conv (no bias) + LN,
    then max-pool(1, stride 2) for the extra level."""
    laterals = [channels_layer_norm(F.conv2d(x, m.conv.weight), m.ln)
                for x, m in zip(inputs, neck.lateral_convs)]
    for i in range(len(laterals) - 1, 0, -1):
        laterals[i - 1] = laterals[i - 1] + F.interpolate(
            laterals[i], size=laterals[i - 1].shape[2:], mode='nearest')
    outs = [channels_layer_norm(F.conv2d(x, m.conv.weight, padding=1), m.ln)
            for x, m in zip(laterals, neck.fpn_convs)]
    return outs + [F.max_pool2d(outs[-1], 1, stride=2)]


def test_fpn_vitdet_is_the_published_neck():
    init_default_scope('mmdet')
    torch.manual_seed(0)
    neck = perturbed(MODELS.build(dict(
        type='FPN_vitdet', in_channels=[8, 16, 32, 64], out_channels=12, num_outs=5,
        norm_cfg=dict(type='LN', requires_grad=True), use_residual=True)))
    assert all(m.conv.bias is None for m in [*neck.lateral_convs, *neck.fpn_convs])
    assert 'lateral_convs.3.ln.weight' in neck.state_dict()
    inputs = [torch.randn(2, c, 32 // 2 ** i, 40 // 2 ** i) for i, c in enumerate([8, 16, 32, 64])]
    expected = published_fpn_vitdet(neck, inputs)
    got = neck(inputs)
    assert len(got) == 5
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)


def test_fpn_vitdet_refuses_what_no_recipe_uses():
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match='use_residual=False'):
        MODELS.build(dict(type='FPN_vitdet', in_channels=[8, 16], out_channels=8, num_outs=2,
                          use_residual=False))


@pytest.mark.parametrize('layout, expected', [
    ({'model': 'plain', 'model_ema': 'ema'}, 'ema'),     # a classification checkpoint with EMA
    ({'model': 'plain'}, 'plain'),
    ({'state_dict': 'plain', 'model_ema': 'ema'}, 'plain')])
def test_flash_backbone_prefers_the_ema_weights_as_published(tmp_path, layout, expected):
    torch.manual_seed(1)
    weights = {'plain': perturbed(create_classifier('flash_internimage_test')).state_dict(),
               'ema': perturbed(create_classifier('flash_internimage_test'), seed=2).state_dict()}
    path = tmp_path / 'cls.pth'
    torch.save({key: weights[value] for key, value in layout.items()}, path)
    backbone = FlashInternImage(arch='flash_internimage_test',
                                init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        backbone.init_weights()
    finally:
        logger.removeHandler(handler)
    name = 'levels.0.blocks.0.dcn.offset_mask.weight'
    torch.testing.assert_close(backbone.state_dict()[name], weights[expected][name])
    said = any('loading its EMA weights' in r.getMessage() for r in records)
    assert said == (expected == 'ema')


@pytest.mark.parametrize('rule', ['published_detection', 'published_segmentation'])
def test_offset_lr_scale_reaches_the_dcnv4_offset_mask_not_its_depthwise_conv(rule):
    """The DCNv4 release's constructors put names holding offset_mask (and not offset_mask_dw)
    in the offset_lr_scale group: FlashInternImage's offset/mask projection."""
    class Segmentor(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = FlashInternImage(arch='flash_internimage_test')

    model = Segmentor()
    constructor = InternImageLayerDecayConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05)),
        dict(rule=rule, layer_decay_rate=1.0, offset_lr_scale=0.01))
    rules, _ = constructor.parameter_rules(model)
    factor = {name: rule_[3] for name, rule_ in rules.items()}
    prefix = 'backbone.levels.1.blocks.0.dcn.'
    assert factor[prefix + 'offset_mask.weight'] == factor[prefix + 'offset_mask.bias'] == 0.01
    assert factor[prefix + 'offset_mask_dw.weight'] == 1.0
    assert factor[prefix + 'value_proj.weight'] == 1.0


def test_the_nsmx_pixel_decoder_attends_without_the_softmax():
    """The published use_softmax=False: mmcv's deformable attention with the sampling weights as
    the linear layer predicts them (written out with mmcv's sampling function); the same
    parameters as the standard decoder's, whose output differs by the softmax."""
    from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch
    import segmentation  # noqa: F401  (registers the pixel decoder)
    from mmengine.config import Config
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        'configs/segmentation/ade20k/mask2former_flash_internimage_s_640_160k_ade20k_ss_nsmx.py')
    decoder_cfg = cfg.model.decode_head.pixel_decoder
    decoder_cfg.encoder.num_layers = 1
    decoder = MODELS.build(decoder_cfg)
    standard = MODELS.build({**decoder_cfg, 'type': 'mmdet.MSDeformAttnPixelDecoder'})
    assert decoder.state_dict().keys() == standard.state_dict().keys()
    attention = perturbed(decoder.encoder.layers[0].self_attn)
    standard.encoder.layers[0].self_attn.load_state_dict(attention.state_dict())
    torch.manual_seed(3)
    shapes = torch.tensor([[6, 8], [3, 4], [2, 2]])
    starts = torch.cat([shapes.new_zeros(1), (shapes[:, 0] * shapes[:, 1]).cumsum(0)[:-1]])
    query = torch.randn(2, int((shapes[:, 0] * shapes[:, 1]).sum()), 256)
    reference = torch.rand(2, query.shape[1], 3, 2)
    kwargs = dict(query=query, reference_points=reference, spatial_shapes=shapes,
                  level_start_index=starts)
    heads, levels, points = attention.num_heads, attention.num_levels, attention.num_points
    value = attention.value_proj(query).view(2, query.shape[1], heads, -1)
    offsets = attention.sampling_offsets(query).view(2, -1, heads, levels, points, 2)
    weights = attention.attention_weights(query).view(2, -1, heads, levels, points)
    locations = reference[:, :, None, :, None, :] + \
        offsets / shapes.flip(-1)[None, None, None, :, None, :]
    expected = attention.output_proj(
        multi_scale_deformable_attn_pytorch(value, shapes, locations, weights)) + query
    with torch.no_grad():
        torch.testing.assert_close(attention(**kwargs), expected)
        assert not torch.allclose(standard.encoder.layers[0].self_attn(**kwargs), expected)
