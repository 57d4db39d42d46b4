"""The published families without a fixture (Cascade Mask R-CNN, CB-DINO-H): our model, loaded
through the converter from a seeded random state dict under the published names (shapes shrunk
as the fixtures shrink them), equals an oracle of the PUBLISHED test-time computation, written
from the published code and built from pieces the fixtures verified (tests/
test_published_fixtures.py: backbone levels, FPN/ChannelMapper, RPN, RoI box and mask heads,
the DINO transformer and head), called one by one with the published tensors picked by their
published names. Relative error <= 1e-4."""
import math
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope, MODELS
from torchvision.ops import batched_nms

from internimage.engine import task_of
from internimage.models import InternImageTrunk
from internimage.models.conversion import shapes_of
from internimage.models.variants import with_arch
from published_data import (assert_close, load_converted, published_targets, read_key_list,
                            shrunk_model)

# published entries of blocks and level-2 post-norms beyond the shrunk depths
BEYOND_SHRUNK = re.compile(r'levels\.\d\.(blocks|post_norms)\.\d+\.')


def random_tensor(name, shape, generator):
    """A seeded tensor for a published entry, scaled so that outputs stay O(1) through deep
    heads (weights by fan-in, norms near 1), the composite scales matter and RoI class
    logits spread enough for scores above score_thr."""
    if name.endswith('num_batches_tracked'):
        return torch.zeros(shape, dtype=torch.long)
    t = torch.randn(shape, generator=generator)
    if name.endswith('running_var'):
        return t.abs() + 0.5
    if len(shape) >= 2:
        return t / math.sqrt(math.prod(shape[1:])) * (4 if name.endswith('fc_cls.weight') else 1)
    if re.search(r'cb_modules\.1\.gamma\d$', name):
        return t
    return 1 + 0.1 * t if name.endswith('.weight') else 0.1 * t


def converted(published_name, seed, **model_overrides):
    """(our model, the published state dict): the state dict has the released layout's names
    (keys/*.txt) with our shrunk model's shapes (each name mapped through the layout), the
    model is loaded from it through the converter (strict)."""
    model, cfg = shrunk_model(published_name, **model_overrides)
    ours = shapes_of(model.state_dict())
    names = list(read_key_list(published_name))
    layout = task_of(cfg).released_layout(cfg.model, names)
    generator = torch.Generator().manual_seed(seed)
    published = {}
    for name, target in published_targets(layout, names).items():
        if target in ours:
            published[name] = random_tensor(name, ours[target], generator)
        else:
            assert BEYOND_SHRUNK.search(name), f'{name} -> {target}: not in our model'
    return load_converted(model, layout, published), published, cfg


def under(state_dict, prefix):
    return {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}


def our_order(ours_boxes, boxes, scores):
    """The order putting the published detections in ours: ties of score (RoIs clipped to
    the same box) may come out of NMS or top-k either way round; only such ties may move."""
    order = torch.cdist(ours_boxes, boxes).argmin(1)
    assert torch.equal(order.sort().values, torch.arange(len(boxes))), 'not one-to-one'
    moved = order != torch.arange(len(order))
    assert torch.allclose(scores[order][moved], scores[moved], rtol=1e-5), 'moved, not tied'
    return order


def samples_of(image):
    from mmdet.structures import DetDataSample
    size = tuple(image.shape[-2:])
    return [DetDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size,
                                        batch_input_shape=size, scale_factor=(1.0, 1.0)))]


def built(module_cfg, state_dict):
    """A module of ours (a fixture-verified kind) holding published tensors."""
    module = MODELS.build(module_cfg)
    module.load_state_dict(state_dict, strict=True)
    return module.eval()


def recorded(modules):
    """Forward hooks keeping each module's (inputs, output), and the list they fill."""
    seen = [None] * len(modules)
    handles = [m.register_forward_hook(lambda m, i, o, k=k: seen.__setitem__(k, (i, o)))
               for k, m in enumerate(modules)]
    return seen, handles


# ---------------------------------------------------------------- Cascade (mmdet 2.28) -----
# the published configs' per-stage DeltaXYWHBBoxCoder target_stds (means 0) and test_cfg
# (mmdet 2.28's cascade_mask_rcnn_r50_fpn base, the CrowdHuman one alike)
CASCADE_STDS = ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067])
PUBLISHED_RPN_TEST = dict(nms_pre=1000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7),
                          min_bbox_size=0)
SCORE_THR, NMS_IOU, MAX_PER_IMG, MASK_THR = 0.05, 0.5, 100, 0.5
# fewer proposals and detections than published keep the heads' CPU time to seconds
PROPOSALS, DETECTIONS = 64, 16


def delta2bbox(boxes, deltas, stds, img_shape):
    """mmdet 2.28 core/bbox/coder/delta_xywh_bbox_coder.py delta2bbox: means 0, dw/dh clamped
    at |log(16/1000)|, boxes clipped to the image."""
    deltas = deltas * deltas.new_tensor(stds)
    centers, sizes = (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]
    max_ratio = abs(math.log(16 / 1000))
    centers = centers + sizes * deltas[:, :2]
    sizes = sizes * deltas[:, 2:].clamp(-max_ratio, max_ratio).exp()
    height, width = img_shape
    x1y1, x2y2 = centers - sizes / 2, centers + sizes / 2
    limits = boxes.new_tensor([width, height])
    return torch.cat([x1y1.clamp(min=0).minimum(limits), x2y2.clamp(min=0).minimum(limits)], 1)


def with_batch_index(boxes):
    """mmdet 2.28 bbox2roi for one image."""
    return torch.cat([boxes.new_zeros(len(boxes), 1), boxes], 1)


def published_cascade(stages, features, proposals, img_shape, max_per_img):
    """mmdet 2.28 roi_heads/cascade_roi_head.py CascadeRoIHead.simple_test (one image), with
    BBoxHead.regress_by_class / get_bboxes and core/post_processing multiclass_nms. ``stages``:
    per stage (box RoI extractor, box head, mask RoI extractor and head or None). Returns the
    per-stage RoIs, class logits and deltas, the detections (boxes, scores, labels) and the
    per-stage mask logits."""
    boxes, per_stage = proposals, []
    for i, (extractor, box_head, _) in enumerate(stages):
        logits, deltas = box_head(extractor(features[:extractor.num_inputs],
                                            with_batch_index(boxes)))
        per_stage.append((with_batch_index(boxes), logits, deltas))
        if i < len(stages) - 1:
            # regress_by_class: the deltas of the arg-max foreground class of the raw logits
            # (class-specific heads), decoded with this stage's coder
            if deltas.shape[1] > 4:
                label = logits[:, :-1].argmax(1)
                deltas = deltas.view(len(deltas), -1, 4)[torch.arange(len(deltas)), label]
            boxes = delta2bbox(boxes, deltas, CASCADE_STDS[i], img_shape)
    # the stages' raw logits averaged, then BBoxHead.get_bboxes of the last stage: softmax,
    # the last stage's deltas decoded on the last stage's RoIs
    scores = F.softmax(sum(logits for _, logits, _ in per_stage) / len(per_stage), dim=-1)
    num_rois, num_classes = scores.shape[0], scores.shape[1] - 1
    per_class = deltas.shape[1] // 4
    decoded = delta2bbox(boxes.repeat_interleave(per_class, 0), deltas.reshape(-1, 4),
                         CASCADE_STDS[-1], img_shape).view(num_rois, per_class, 4)
    # multiclass_nms: every (RoI, class) above score_thr, class-wise NMS, top max_per_img
    decoded = decoded.expand(num_rois, num_classes, 4).reshape(-1, 4)
    labels = torch.arange(num_classes).repeat(num_rois)
    scores = scores[:, :-1].reshape(-1)
    valid = scores > SCORE_THR
    decoded, scores, labels = decoded[valid], scores[valid], labels[valid]
    keep = batched_nms(decoded, scores, labels, NMS_IOU)[:max_per_img]
    detections = decoded[keep], scores[keep], labels[keep]
    # masks: every stage's mask head on the detections' boxes
    mask_logits = [mask[1](mask[0](features[:mask[0].num_inputs],
                                   with_batch_index(detections[0])))
                   for _, _, mask in stages if mask is not None]
    return per_stage, detections, mask_logits


def published_masks(mask_logits, detections, img_shape):
    """simple_test's masks: each stage's sigmoid, averaged (merge_aug_masks), then
    FCNMaskHead.get_seg_masks: the detected class's map pasted into the image at its box
    (the paste is mmdet's _do_paste_mask, the same function in 2.28 and 3.3), >= 0.5."""
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
    boxes, _, labels = detections
    merged = sum(m.sigmoid() for m in mask_logits) / len(mask_logits)
    chosen = merged[torch.arange(len(labels)), labels][:, None]
    pasted, _ = _do_paste_mask(chosen, boxes, *img_shape, skip_empty=False)
    return pasted >= MASK_THR


@pytest.mark.parametrize('published_name, seed', [
    ('cascade_internimage_l_fpn_1x_coco', 0),
    ('cascade_internimage_xl_fpn_3x_crowd_human', 1)])
def test_cascade_matches_the_published_test_time_algorithm(published_name, seed):
    """Per-stage RoIs, logits and deltas, the detections and the masks of our model's
    ``predict`` against mmdet 2.28's CascadeRoIHead.simple_test on the same proposals."""
    model, published, cfg = converted(published_name, seed,
                                      **{'neck.in_channels': [32, 64, 128, 256]})
    head_cfg = cfg.model.roi_head
    with_masks = 'mask_head' in head_cfg
    rpn_test, rcnn_test = model.rpn_head.test_cfg, model.roi_head.test_cfg
    assert rpn_test == PUBLISHED_RPN_TEST
    assert (rcnn_test.score_thr, rcnn_test.nms, rcnn_test.max_per_img) == (
        SCORE_THR, dict(type='nms', iou_threshold=NMS_IOU), MAX_PER_IMG)
    assert rcnn_test.get('mask_thr_binary') == (MASK_THR if with_masks else None)
    rpn_test.max_per_img, rcnn_test.max_per_img = PROPOSALS, DETECTIONS
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        stages = [(built(head_cfg.bbox_roi_extractor, {}),
                   built(head_cfg.bbox_head[i], under(published, f'roi_head.bbox_head.{i}.')),
                   (built(head_cfg.mask_roi_extractor, {}),
                    built(head_cfg.mask_head, under(published, f'roi_head.mask_head.{i}.')))
                   if with_masks else None)
                  for i in range(head_cfg.num_stages)]
    torch.manual_seed(2)
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    samples = samples_of(image)
    roi_head = model.roi_head
    boxes_seen, handles = recorded(roi_head.bbox_head)
    masks_seen, more = recorded(roi_head.mask_head if with_masks else [])
    extractor_seen, extra = recorded(roi_head.bbox_roi_extractor)
    with torch.no_grad():
        ours = model.predict(image, samples, rescale=True)[0].pred_instances
        for handle in handles + more + extra:
            handle.remove()
        features = model.extract_feat(image)
        proposals = model.rpn_head.predict(features, samples, rescale=False)[0].bboxes
        per_stage, (boxes, scores, labels), mask_logits = published_cascade(
            stages, features, proposals, image.shape[-2:], DETECTIONS)
    assert len(proposals) == PROPOSALS and len(boxes) == DETECTIONS
    order = our_order(ours.bboxes, boxes, scores)
    detections = boxes[order], scores[order], labels[order]
    for i, (rois, logits, deltas) in enumerate(per_stage):
        assert_close(extractor_seen[i][0][1], rois, f'stage {i} RoIs')
        assert_close(boxes_seen[i][1][0], logits, f'stage {i} class logits')
        assert_close(boxes_seen[i][1][1], deltas, f'stage {i} deltas')
    assert torch.equal(ours.labels, detections[2])
    assert_close(ours.scores, detections[1], 'detection scores')
    assert_close(ours.bboxes, detections[0], 'detection boxes')
    if with_masks:
        for i, logits in enumerate(mask_logits):
            assert_close(masks_seen[i][1], logits[order], f'stage {i} mask logits')
        expected = published_masks([m[order] for m in mask_logits], detections,
                                   image.shape[-2:])
        assert (ours.masks != expected).float().mean() < 1e-3


# ---------------------------------------------------------------- CB-DINO ------------------
def published_cb_backbone(published, trunk_options, image):
    """detection/mmdet_custom/models/backbones/cbnet.py CBInternImage.forward (published):
    the assisting trunk (_InternImage, cb_idx 0, out_indices (0, 1, 2, 3)) runs on the image;
    _get_cb_feats gives level i the sum over j of cb_linears[i][j] (1x1 conv, identity for
    j = 0) of assisting level i + j, resized (nearest) to the stem size halved i times; the
    lead trunk (cb_idx 1, its stem deleted: cb_del_stages=1) starts from the assisting stem's
    output and adds ``gamma{i}.half() * cb_feats[i]`` to the input of each level i. The
    assisting outputs lose level 0 (4 = 3 + 1 out_indices). Returns (assisting, lead) maps."""
    assist = InternImageTrunk(**trunk_options)
    assist.load_state_dict(under(published, 'backbone.cb_modules.0.'), strict=True)
    lead = InternImageTrunk(stem=False, **trunk_options)
    lead.load_state_dict({k: v for k, v in under(published, 'backbone.cb_modules.1.').items()
                          if not re.fullmatch(r'gamma\d', k)}, strict=True)
    stem = assist.eval().patch_embed(image)
    x, assist_maps = stem, []
    for level in assist.levels:
        output, x = level(x)
        assist_maps.append(output.permute(0, 3, 1, 2))
    height, width = stem.shape[1:3]
    x, lead_maps = stem, []
    for i, level in enumerate(lead.eval().levels):
        feed = 0
        for j in range(len(assist_maps) - i):
            mapped = assist_maps[i + j]
            if j:
                mapped = F.conv2d(mapped, published[f'backbone.cb_linears.{i}.{j}.weight'],
                                  published[f'backbone.cb_linears.{i}.{j}.bias'])
            feed = feed + F.interpolate(mapped, size=(height, width)).permute(0, 2, 3, 1)
        x = x + published[f'backbone.cb_modules.1.gamma{i}'].half() * feed
        output, x = level(x)
        lead_maps.append(output.permute(0, 3, 1, 2))
        height, width = height // 2, width // 2
    return tuple(assist_maps[1:]), tuple(lead_maps[1:])


def published_dino_detections(logits, boxes, img_shape, max_per_img):
    """dense_heads/detr_head.py DETRHead._get_bboxes_single (published; DINOHead's through
    DeformableDETRHead.get_bboxes): top-k of the last layer's sigmoid scores over (query,
    class), cx,cy,w,h -> x1,y1,x2,y2 in pixels, clipped; scale factor 1."""
    scores, index = logits[-1, 0].sigmoid().view(-1).topk(max_per_img)
    num_classes = logits.shape[-1]
    cx, cy, w, h = boxes[-1, 0][index // num_classes].unbind(-1)
    height, width = img_shape
    corners = torch.stack([(cx - w / 2) * width, (cy - h / 2) * height,
                           (cx + w / 2) * width, (cy + h / 2) * height], -1)
    corners = torch.cat([corners[:, 0::2].clamp(0, width), corners[:, 1::2].clamp(0, height)],
                        1)[:, [0, 2, 1, 3]]
    return corners, scores, index % num_classes


def test_cb_dino_matches_the_published_composite_detector():
    """Backbone (assisting and lead maps), decoder outputs and detections of our CBDINO
    against the published composite backbone, CBChannelMapper (at test time the plain
    ChannelMapper on the lead maps only, cb_idx=1) and CBDINO.simple_test
    (bbox_head.simple_test_bboxes: CBDINOHead.forward, the fixture-verified DINOHead.forward
    line for line, then get_bboxes). Shrunk: 100 queries, a 128 x 128 image, level-2 post-norms
    at the shrunk blocks 0 and 1 (as the H-style fixture)."""
    model, published, cfg = converted(
        'dino_4scale_cbinternimage_h_objects365_coco_ss', 3,
        **{'neck.in_channels': [64, 128, 256], 'num_queries': 100,
           'backbone.level2_post_norm_block_ids': [0, 1]})
    backbone_cfg = cfg.model.backbone
    trunk_options = with_arch(backbone_cfg.arch, {
        k: v for k, v in backbone_cfg.items() if k not in ('type', 'arch', 'out_indices')},
        head=False)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        neck = built(cfg.model.neck, under(published, 'neck.0.'))
    torch.manual_seed(4)
    image = torch.rand(1, 3, 128, 128) * 2 - 1
    samples = samples_of(image)
    with torch.no_grad():
        assist, lead = published_cb_backbone(published, trunk_options, image)
        ours_assist, ours_lead = model.backbone(image)
        assert_close(ours_assist, assist, 'assisting maps')
        assert_close(ours_lead, lead, 'lead maps')
        # the fixture-verified DINO pieces on the published neck's output of the lead maps
        head_inputs = model.forward_transformer(neck(lead), samples)
        logits, boxes = model.bbox_head(**head_inputs)
        ours_logits, ours_boxes = model._forward(image, samples)
        ours = model.predict(image, samples, rescale=True)[0].pred_instances
    assert_close(ours_logits, logits, 'decoder logits')
    assert_close(ours_boxes, boxes, 'decoder boxes')
    expected = published_dino_detections(logits, boxes, image.shape[-2:],
                                         cfg.model.test_cfg.max_per_img)
    assert cfg.model.test_cfg.max_per_img == 300  # the published test_cfg
    assert torch.equal(ours.labels, expected[2])
    assert_close(ours.scores, expected[1], 'detection scores')
    assert_close(ours.bboxes, expected[0], 'detection boxes')
