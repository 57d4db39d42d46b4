"""Our models, built from the configs of the published recipes with the fixtures' shrunk
backbone and loaded through the converter from the published state dict, give the published
implementation's outputs on the fixtures' input (relative error <= 1e-4; ../shared/published,
each fixture's .txt says which call produced each tensor)."""
import torch
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.structures import InstanceData

from internimage.engine import task_of
from internimage.models.conversion import Layout, convert_state_dict, keep, shapes_of
from published_data import (SHRUNK, assert_close, load_converted, load_fixture, our_config,
                            shrunk_model)


def converted_model(published_name, fixture, **model_overrides):
    """Our model of the recipe, shrunk as the fixture's, with the fixture's published weights
    converted into it (strict load)."""
    model, cfg = shrunk_model(published_name, **model_overrides)
    source = fixture['state_dict']
    return load_converted(model, task_of(cfg).released_layout(cfg.model, list(source)), source)


def test_h_style_backbone_matches_the_published_one():
    """The fixture holds a backbone alone (entries ``backbone.*``, as inside the segmentor)."""
    fixture = load_fixture('backbone_h_postnorm')
    cfg = Config.fromfile(our_config('mask2former_internimage_h_896_80k_cocostuff2ade20k_ss'))
    backbone = MODELS.build(dict(cfg.model.backbone, **SHRUNK, level2_post_norm_block_ids=[0, 1]))
    layout = Layout('published backbone', keep('backbone'), fills='backbone.')
    target = {f'backbone.{k}': v for k, v in shapes_of(backbone.state_dict()).items()}
    state_dict, _ = convert_state_dict(layout, fixture['state_dict'], target)
    backbone.load_state_dict({k[len('backbone.'):]: v for k, v in state_dict.items()},
                             strict=True)
    with torch.no_grad():
        assert_close(backbone.eval()(fixture['input']), fixture['backbone_out'], 'backbone')


def test_upernet_matches_the_published_one():
    fixture = load_fixture('upernet')
    model = converted_model('upernet_internimage_t_512_160k_ade20k', fixture,
                            **{'decode_head.in_channels': [32, 64, 128, 256],
                               'auxiliary_head.in_channels': 128})
    with torch.no_grad():
        levels = model.backbone(fixture['input'])
        assert_close(levels, fixture['backbone_out'], 'backbone')
        assert_close(model.decode_head(levels), fixture['decode_logits'], 'decode head')
        assert_close(model.auxiliary_head(levels), fixture['auxiliary_logits'], 'aux head')


def test_mask_rcnn_matches_the_published_one():
    fixture = load_fixture('mask_rcnn')
    model = converted_model('mask_rcnn_internimage_t_fpn_1x_coco', fixture,
                            **{'neck.in_channels': [32, 64, 128, 256]})
    rois = fixture['rois']
    with torch.no_grad():
        levels = model.backbone(fixture['input'])
        assert_close(levels, fixture['backbone_out'], 'backbone')
        features = model.neck(levels)
        assert_close(features, fixture['neck_out'], 'FPN')
        scores, deltas = model.rpn_head(features)
        assert_close(scores, fixture['rpn_cls_scores'], 'RPN scores')
        assert_close(deltas, fixture['rpn_bbox_preds'], 'RPN deltas')
        boxes = model.roi_head._bbox_forward(features, rois)
        assert_close(boxes['bbox_feats'], fixture['roi_bbox_feats'], 'RoI features')
        assert_close(boxes['cls_score'], fixture['roi_cls_score'], 'RoI class logits')
        assert_close(boxes['bbox_pred'], fixture['roi_bbox_pred'], 'RoI box deltas')
        masks = model.roi_head._mask_forward(features, rois)
        assert_close(masks['mask_preds'], fixture['roi_mask_pred'], 'RoI mask logits')


def dino_samples(fixture):
    from mmdet.structures import DetDataSample
    height, width = fixture['input'].shape[-2:]
    sample = DetDataSample(metainfo=dict(img_shape=(height, width), ori_shape=(height, width),
                                         pad_shape=(height, width),
                                         batch_input_shape=(height, width),
                                         scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData()
    return [sample]


def test_dino_matches_the_published_one():
    """Backbone, ChannelMapper, encoder memory, the two-stage encoder proposals (top-900 class
    logits and anchors) and every decoder layer's logits and boxes (no denoising queries)."""
    fixture = load_fixture('dino')
    model = converted_model('dino_4scale_internimage_t_1x_coco_layer_wise_lr', fixture,
                            **{'neck.in_channels': [64, 128, 256]})
    seen = {}
    encoder_head = model.bbox_head.cls_branches[model.decoder.num_layers]
    encoder_head.register_forward_hook(lambda m, i, out: seen.update(enc_logits=out))
    with torch.no_grad():
        levels = model.backbone(fixture['input'])
        assert_close(levels, fixture['backbone_out'], 'backbone')
        features = model.neck(levels)
        assert_close(features, fixture['neck_out'], 'ChannelMapper')
        samples = dino_samples(fixture)
        encoder_inputs, decoder_inputs = model.pre_transformer(features, samples)
        encoded = model.forward_encoder(**encoder_inputs)
        assert_close(encoded['memory'], fixture['encoder_memory'].transpose(0, 1),
                     'encoder memory')
        decoder_in, _ = model.pre_decoder(**encoded, batch_data_samples=samples)
        logits = seen['enc_logits']
        maxima, top = logits.max(-1)[0].topk(model.num_queries, dim=1)
        anchors = decoder_in['reference_points']
        # the published order of the top-k: rows whose maximum logits agree to float rounding
        # come in the order the published run's rounding gave them (its machine and torch),
        # ours may swap them (two pairs 2 ulps apart here on an AVX-512 Xeon, one elsewhere);
        # so the order is a permutation that moves only such near-ties
        order = torch.cdist(fixture['enc_topk_anchors'][0], anchors[0]).argmin(-1)
        assert torch.equal(order.sort().values, torch.arange(len(order)))
        assert torch.allclose(maxima[0][order], maxima[0], rtol=1e-6, atol=0)
        top_logits = logits.gather(1, top[..., None].expand(-1, -1, logits.shape[-1]))
        assert_close(top_logits[:, order], fixture['enc_topk_scores'], 'encoder top-k logits')
        assert_close(anchors[:, order], fixture['enc_topk_anchors'], 'encoder top-k anchors')
        decoder_in['reference_points'] = anchors[:, order]
        decoder_inputs.update(decoder_in)
        logits, boxes = model.bbox_head(**model.forward_decoder(**decoder_inputs))
    assert_close(logits, fixture['dec_cls_scores'], 'decoder logits')
    assert_close(boxes, fixture['dec_bbox_preds'], 'decoder boxes')
