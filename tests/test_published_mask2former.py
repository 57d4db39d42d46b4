"""Our Mask2Former (mmseg 1.2 / mmdet 3.3), loaded through the converter, computes what the
published Mask2Former-H head computes at test time. No fixture of the published outputs exists,
so an oracle written from the published code (OpenGVLab/InternImage at 31c962d, files named at
each step below; the mmcv 1.7 / mmdet 2.x layers they build) runs on the same seeded weights in
the published names. The backbone is the fixtures' shrunk H-style one (its outputs are checked
against the published ones in test_published_fixtures.py); the head is shrunk too, wide enough
for GroupNorm's 32 groups, with 4 decoder layers so that the feature levels wrap around."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch
from mmseg.models.decode_heads import Mask2FormerHead
from mmseg.structures import SegDataSample

from internimage.engine import task_of
from internimage.models.conversion import shapes_of
from published_data import (assert_close, load_converted, published_targets, read_key_list,
                            relative_error, shrunk_model)

PUBLISHED = 'mask2former_internimage_h_896_80k_cocostuff2ade20k_ss'
WIDTH, HEADS, QUERIES, LAYERS = 64, 4, 10, 4
ATTENTION = dict(embed_dims=WIDTH, num_heads=HEADS)
FFN = dict(embed_dims=WIDTH, feedforward_channels=2 * WIDTH)
SHRUNK_HEAD = dict(
    in_channels=[32, 64, 128, 256], feat_channels=WIDTH, out_channels=WIDTH,
    num_queries=QUERIES,
    pixel_decoder=dict(encoder=dict(num_layers=2, layer_cfg=dict(self_attn_cfg=ATTENTION,
                                                                 ffn_cfg=FFN)),
                       positional_encoding=dict(num_feats=WIDTH // 2)),
    positional_encoding=dict(num_feats=WIDTH // 2),
    transformer_decoder=dict(num_layers=LAYERS, layer_cfg=dict(
        self_attn_cfg=ATTENTION, cross_attn_cfg=ATTENTION, ffn_cfg=FFN)))
# over the fixtures' shrunk backbone: the published H ids (5, 11, ...) do not fit a level of
# depth 2
SHRUNK_BACKBONE = {'backbone.level2_post_norm_block_ids': [0, 1]}


# ---- the oracle: the published test-time computation, in plain torch ----------------------

def linear(p, name, x):
    return F.linear(x, p[f'{name}.weight'], p.get(f'{name}.bias'))


def layer_norm(p, name, x):
    return F.layer_norm(x, x.shape[-1:], p[f'{name}.weight'], p[f'{name}.bias'])


def conv_gn(p, name, x, padding=0):
    """mmcv ConvModule (conv, gn, no activation), GN of 32 groups as in the published config."""
    x = F.conv2d(x, p[f'{name}.conv.weight'], p.get(f'{name}.conv.bias'), padding=padding)
    return F.group_norm(x, 32, p[f'{name}.gn.weight'], p[f'{name}.gn.bias'])


def sine_encoding(height, width, num_feats):
    """mmseg_custom/models/utils/positional_encoding.py SinePositionalEncoding.forward with
    normalize=True on an all-valid mask: (h, w, 2 * num_feats), y features then x features."""
    y = torch.arange(1, height + 1, dtype=torch.float32)[:, None].expand(height, width)
    x = torch.arange(1, width + 1, dtype=torch.float32)[None].expand(height, width)
    y, x = y / (height + 1e-6) * 2 * math.pi, x / (width + 1e-6) * 2 * math.pi
    dim_t = 10000 ** (2 * (torch.arange(num_feats) // 2) / num_feats)

    def interleave(t):
        t = t[..., None] / dim_t
        return torch.stack((t[..., 0::2].sin(), t[..., 1::2].cos()), -1).flatten(-2)
    return torch.cat((interleave(y), interleave(x)), -1)


def deformable_attention(p, name, query, query_pos, shapes, reference):
    """mmcv 1.7 MultiScaleDeformableAttention.forward (value = the query without its position,
    offsets normalised by each level's (w, h), softmax over levels x points jointly)."""
    batch, length, _ = query.shape
    levels, points = len(shapes), 4
    value = linear(p, f'{name}.value_proj', query).view(batch, length, HEADS, -1)
    q = query + query_pos
    offsets = linear(p, f'{name}.sampling_offsets', q).view(batch, length, HEADS, levels,
                                                             points, 2)
    weights = linear(p, f'{name}.attention_weights', q).view(batch, length, HEADS, -1)
    weights = weights.softmax(-1).view(batch, length, HEADS, levels, points)
    normaliser = shapes.flip(-1)[None, None, None, :, None, :]
    locations = reference[:, :, None, :, None, :] + offsets / normaliser
    out = multi_scale_deformable_attn_pytorch(value, shapes, locations, weights)
    return query + linear(p, f'{name}.output_proj', out)


def ffn(p, name, x):
    """mmseg_custom/models/utils/transformer.py FFN: identity + fc(relu(fc(x)))."""
    return x + linear(p, f'{name}.layers.1', F.relu(linear(p, f'{name}.layers.0.0', x)))


def pixel_decoder(p, feats):
    """mmseg_custom/models/plugins/msdeformattn_pixel_decoder.py forward: levels 3, 2, 1
    (low to high resolution) through the deformable encoder, level embedding added to the
    sine encoding, reference points at the cell centres ((i + 0.5) / size, the strides
    cancel), then the FPN step onto level 0 and the mask-feature conv."""
    pre = 'decode_head.pixel_decoder'
    batch = feats[0].shape[0]
    tokens, positions, references, shapes = [], [], [], []
    for i, level in enumerate((3, 2, 1)):
        height, width = feats[level].shape[-2:]
        tokens.append(conv_gn(p, f'{pre}.input_convs.{i}', feats[level]).flatten(2).mT)
        positions.append(sine_encoding(height, width, WIDTH // 2).flatten(0, 1)
                         + p[f'{pre}.level_encoding.weight'][i])
        y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing='ij')
        references.append(torch.stack(((x.flatten() + 0.5) / width,
                                       (y.flatten() + 0.5) / height), -1))
        shapes.append((height, width))
    query, query_pos = torch.cat(tokens, 1), torch.cat(positions)[None]
    shapes = torch.tensor(shapes)
    reference = torch.cat(references)[None, :, None].expand(batch, -1, len(shapes), -1)
    for j in range(2):
        # BaseTransformerLayer, operation_order ('self_attn', 'norm', 'ffn', 'norm')
        name = f'{pre}.encoder.layers.{j}'
        query = deformable_attention(p, f'{name}.attentions.0', query, query_pos, shapes,
                                     reference)
        query = layer_norm(p, f'{name}.norms.0', query)
        query = layer_norm(p, f'{name}.norms.1', ffn(p, f'{name}.ffns.0', query))
    memory = [m.mT.reshape(batch, -1, h, w)
              for m, (h, w) in zip(query.split([h * w for h, w in shapes.tolist()], 1),
                                   shapes.tolist())]
    lateral = conv_gn(p, f'{pre}.lateral_convs.0', feats[0])
    top = lateral + F.interpolate(memory[-1], size=lateral.shape[-2:], mode='bilinear',
                                  align_corners=False)
    top = F.relu(conv_gn(p, f'{pre}.output_convs.0', top, padding=1))
    mask_feature = F.conv2d(top, p[f'{pre}.mask_feature.weight'], p[f'{pre}.mask_feature.bias'])
    return mask_feature, memory


def attention(p, name, query, key, value, mask=None):
    """torch.nn.MultiheadAttention as mmcv 1.7 MultiheadAttention calls it (positions already
    added to query and key, not to value), plus mmcv's identity: the query without position
    is added by the caller. ``mask`` (batch * heads, queries, keys), True = not attended."""
    w, b = p[f'{name}.attn.in_proj_weight'].chunk(3), p[f'{name}.attn.in_proj_bias'].chunk(3)
    batch = query.shape[0]
    q, k, v = (F.linear(t, wi, bi).view(batch, t.shape[1], HEADS, -1).transpose(1, 2)
               for t, wi, bi in zip((query, key, value), w, b))
    logits = q @ k.mT / math.sqrt(q.shape[-1])
    if mask is not None:
        logits = logits.masked_fill(mask.view(batch, HEADS, *mask.shape[1:]), float('-inf'))
    out = (logits.softmax(-1) @ v).transpose(1, 2).flatten(2)
    return linear(p, f'{name}.attn.out_proj', out)


def predictions(p, query, mask_feature, size):
    """mmseg_custom/models/decode_heads/mask2former_head.py forward_head: the decoder's
    post-norm, class logits, mask logits, and the next attention mask (mask logits resized to
    the next level, True where sigmoid < 0.5, repeated per head)."""
    query = layer_norm(p, 'decode_head.transformer_decoder.post_norm', query)
    logits = linear(p, 'decode_head.cls_embed', query)
    embed = query
    for i in (0, 2, 4):
        embed = linear(p, f'decode_head.mask_embed.{i}', embed)
        embed = F.relu(embed) if i < 4 else embed
    masks = torch.einsum('bqc,bchw->bqhw', embed, mask_feature)
    attn_mask = F.interpolate(masks, size, mode='bilinear', align_corners=False)
    attn_mask = attn_mask.flatten(2).unsqueeze(1).repeat(1, HEADS, 1, 1).flatten(0, 1)
    return logits, masks, attn_mask.sigmoid() < 0.5


def published_head(p, feats, image_size):
    """mmseg_custom/models/decode_heads/mask2former_head.py forward and forward_test, with
    encoder_decoder_mask2former.py encode_decode: every layer's (class logits, mask logits),
    how many attention-mask rows were all masked, and the per-pixel class scores (softmax
    without the no-object class times sigmoid masks, formed at the mask features' 1/4 and
    then resized bilinearly to the image)."""
    mask_feature, memory = pixel_decoder(p, feats)
    batch = feats[0].shape[0]
    keys = [m.flatten(2).mT + p['decode_head.level_embed.weight'][i]
            for i, m in enumerate(memory)]
    key_pos = [sine_encoding(*m.shape[-2:], WIDTH // 2).flatten(0, 1)[None] for m in memory]
    query = p['decode_head.query_feat.weight'][None].expand(batch, -1, -1)
    query_pos = p['decode_head.query_embed.weight'][None]
    logits, masks, attn_mask = predictions(p, query, mask_feature, memory[0].shape[-2:])
    outputs, all_masked = [(logits, masks)], []
    for i in range(LAYERS):
        level = i % 3
        # an all-masked row attends everywhere instead
        full = attn_mask.all(-1)
        all_masked.append(int(full.sum()))
        attn_mask = attn_mask & ~full[..., None]
        # DetrTransformerDecoderLayer ('cross_attn', 'norm', 'self_attn', 'norm', 'ffn',
        # 'norm'): attentions.0 is the masked cross-attention, attentions.1 the self-attention
        name = f'decode_head.transformer_decoder.layers.{i}'
        query = query + attention(p, f'{name}.attentions.0', query + query_pos,
                                  keys[level] + key_pos[level], keys[level], attn_mask)
        query = layer_norm(p, f'{name}.norms.0', query)
        query = query + attention(p, f'{name}.attentions.1', query + query_pos,
                                  query + query_pos, query)
        query = layer_norm(p, f'{name}.norms.1', query)
        query = layer_norm(p, f'{name}.norms.2', ffn(p, f'{name}.ffns.0', query))
        logits, masks, attn_mask = predictions(p, query, mask_feature,
                                               memory[(i + 1) % 3].shape[-2:])
        outputs.append((logits, masks))
    scores = torch.einsum('bqc,bqhw->bchw', logits.softmax(-1)[..., :-1], masks.sigmoid())
    scores = F.interpolate(scores, size=image_size, mode='bilinear', align_corners=False)
    return dict(mask_feature=mask_feature, memory=memory, outputs=outputs,
                all_masked=all_masked, scores=scores)


# ---- the published weights and our model ----------------------------------------------

EMBEDDINGS = {'query_feat', 'query_embed', 'level_embed', 'level_encoding'}


def published_weights(names_and_shapes):
    """Seeded random weights in the published names: unit-variance linear maps, norms near
    identity, and a constant component in the mask features (bias of channel 0) so that
    some queries' masks are wholly below the threshold and the all-masked fallback runs."""
    generator = torch.Generator().manual_seed(0)
    weights = {}
    for name, shape in names_and_shapes.items():
        t = torch.randn(shape, generator=generator)
        if name.split('.')[-2] in EMBEDDINGS:
            weights[name] = t
        elif len(shape) == 1:
            weights[name] = (1 if name.endswith('weight') else 0) + 0.1 * t
        else:
            weights[name] = t / math.sqrt(math.prod(shape[1:]))
    weights['decode_head.pixel_decoder.mask_feature.bias'][0] = 2.0
    return weights


@pytest.fixture(scope='module')
def models():
    """(our shrunk model loaded through the converter, the published state dict)."""
    model, cfg = shrunk_model(PUBLISHED, decode_head=SHRUNK_HEAD, **SHRUNK_BACKBONE)
    ours = shapes_of(model.state_dict())
    full = read_key_list(PUBLISHED)
    layout = task_of(cfg).released_layout(cfg.model, list(full))
    # the published names of the shrunk model: the released names whose targets it has
    shrunk = {name: ours[target] for name, target in published_targets(layout, full).items()
              if target in ours}
    source = published_weights(shrunk)
    return load_converted(model, layout, source), source


IMAGE = (128, 160)


@pytest.fixture(scope='module')
def run(models):
    """Backbone features of two images, the oracle's outputs and ours."""
    model, source = models
    images = torch.randn((2, 3) + IMAGE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        feats = model.backbone(images)
        published = published_head(source, feats, IMAGE)
        head = model.decode_head
        mask_feature, memory = head.pixel_decoder(feats)
        metas = [dict(img_shape=IMAGE, pad_shape=IMAGE, ori_shape=IMAGE)] * 2
        ours = dict(mask_feature=mask_feature, memory=memory,
                    outputs=list(zip(*head(feats, [SegDataSample(metainfo=m) for m in metas]))),
                    scores=head.predict(feats, metas, model.test_cfg),
                    mmseg_scores=Mask2FormerHead.predict(head, feats, metas, model.test_cfg))
    return ours, published


def test_pixel_decoder_matches_the_published_one(run):
    ours, published = run
    assert_close(ours['mask_feature'], published['mask_feature'], 'mask features')
    assert len(ours['memory']) == 3
    for level, (a, b) in enumerate(zip(ours['memory'], published['memory'])):
        assert_close(a, b, f'multi-scale memory {level}')


def test_every_decoder_layer_matches_the_published_one(run):
    """Class and mask logits of the queries before the first layer and after each of the 4;
    the weights make some attention-mask rows all masked (the fallback) and most mixed."""
    ours, published = run
    assert len(ours['outputs']) == len(published['outputs']) == LAYERS + 1
    assert any(published['all_masked']) and max(published['all_masked']) < 2 * HEADS * QUERIES
    for layer, ((a, m), (b, n)) in enumerate(zip(ours['outputs'], published['outputs'])):
        assert_close(a, b, f'class logits of layer {layer}')
        assert_close(m, n, f'mask logits of layer {layer}')


def test_semantic_scores_match_the_published_ones(run):
    """Scores formed at 1/4 and then resized (segmentation.InternImageMask2FormerHead); mmseg
    1.2's own head, resizing the mask logits first, is about 40% of the largest score off."""
    ours, published = run
    assert_close(ours['scores'], published['scores'], 'per-pixel class scores')
    error = relative_error(ours['mmseg_scores'], published['scores'])
    print(f"mmseg 1.2's Mask2FormerHead.predict: relative error {error:.2f}")
    assert error > 0.1, error
