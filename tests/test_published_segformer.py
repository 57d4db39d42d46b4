"""The published SegFormer-head family (Mapillary pre-training and its Cityscapes fine-tune, no
fixture of the published outputs): our mmseg 1.2 model, loaded through the converter from
seeded random weights under the published names (backbone shrunk as the fixtures shrink it),
equals an oracle of the published test-time computation written from the published code, in
plain torch: mmseg 0.30 decode_heads/segformer_head.py ``SegformerHead.forward`` (per level a
1x1 ConvModule (conv without bias, BN, ReLU) resized bilinearly to level 0, concatenated,
the fusion ConvModule, then ``cls_seg``'s 1x1 conv; dropout is off at test time) and
segmentors/encoder_decoder.py ``encode_decode`` (the logits resized bilinearly to the image,
align_corners False). Relative error <= 1e-4."""
import pytest
import torch
import torch.nn.functional as F

from test_published_composition import converted
from published_data import assert_close

SHRUNK_CHANNELS = [32, 64, 128, 256]


def conv_bn_relu(p, name, x):
    x = F.conv2d(x, p[f'{name}.conv.weight'])
    x = F.batch_norm(x, p[f'{name}.bn.running_mean'], p[f'{name}.bn.running_var'],
                     p[f'{name}.bn.weight'], p[f'{name}.bn.bias'], eps=1e-5)
    return F.relu(x)


def published_segformer_head(p, feats, image_size):
    size = feats[0].shape[-2:]
    levels = [F.interpolate(conv_bn_relu(p, f'decode_head.convs.{i}', x), size=size,
                            mode='bilinear', align_corners=False) for i, x in enumerate(feats)]
    fused = conv_bn_relu(p, 'decode_head.fusion_conv', torch.cat(levels, 1))
    logits = F.conv2d(fused, p['decode_head.conv_seg.weight'], p['decode_head.conv_seg.bias'])
    return logits, F.interpolate(logits, size=image_size, mode='bilinear', align_corners=False)


@pytest.mark.parametrize('published_name, seed', [
    ('segformer_internimage_l_512x1024_80k_mapillary', 5),
    ('segformer_internimage_l_512x1024_160k_mapillary2cityscapes', 6)])
def test_segformer_head_matches_the_published_one(published_name, seed):
    model, published, _ = converted(published_name, seed,
                                    **{'decode_head.in_channels': SHRUNK_CHANNELS})
    torch.manual_seed(seed)
    image = torch.rand(2, 3, 64, 96) * 2 - 1
    metas = [dict(img_shape=(64, 96), pad_shape=(64, 96), ori_shape=(64, 96))] * 2
    with torch.no_grad():
        feats = model.extract_feat(image)
        logits, resized = published_segformer_head(published, feats, image.shape[-2:])
        ours_logits = model.decode_head(feats)
        ours_resized = model.encode_decode(image, metas)
    assert ours_logits.shape == (2, 150, 16, 24)
    assert logits.std() > 0.1 * logits.abs().max()  # the weights give varied logits
    assert_close(ours_logits, logits, 'head logits')
    assert_close(ours_resized, resized, 'logits at image size')
