"""mmdeploy 1.3.1 on this stack: its rewriters of mmdet's detectors (graph-friendly RPN, RoI and
DETR post-processing with ONNX NonMaxSuppression, RoiAlign and TopK) applied around our own
``torch.onnx.export`` call.

mmdeploy 1.3.1 (the last release, December 2023) needs three things on torch 2.14, all scoped to
``detector_rewriting`` and listed in docs/deployment.md:
- it calls ``torch.onnx.export`` without ``dynamo=False``, which on torch >= 2.9 picks the
  torch.export-based exporter its rewriters were not written for: we call the exporter ourselves;
- its RoIAlign symbolic imports ``torch.onnx.symbolic_opset9._cast_Long``, which torch removed:
  put back while exporting (a Cast to int64, what it was);
- for ONNX Runtime it writes ``grid_sample`` (mmcv's multi-scale deformable attention, pure
  PyTorch on CPU) as ``mmdeploy::grid_sampler``, a node only its own operator library runs:
  ``standard_grid_sample`` writes ONNX's GridSample (opset 16) instead.
Its package pins protobuf <= 3.20.2, which onnx 1.23 cannot import with, so it is installed
without its dependencies (tools/setup_env.sh) and with the two it imports (aenum, multiprocess).

Where its rewrites compute something else than mmdet, ours replace them for ONNX Runtime (each
function below says what differed): the RPN's per-level NMS and size filter, class-specific
R-CNN boxes, class-specific cascade refinement, the DETR heads' batched gather.
"""
import contextlib
import functools

import torch
import torch.onnx.symbolic_opset9 as opset9
from torch.onnx import symbolic_opset16

ONNX_INT64 = 7


def _cast_long(g, value, non_blocking):
    return g.op('Cast', value, to_i=ONNX_INT64)


@contextlib.contextmanager
def torch_onnx_helpers_mmdeploy_imports():
    added = not hasattr(opset9, '_cast_Long')
    if added:
        opset9._cast_Long = _cast_long
    try:
        yield
    finally:
        if added:
            del opset9._cast_Long


def standard_grid_sample(g, input, grid, interpolation_mode, padding_mode, align_corners):
    return symbolic_opset16.grid_sampler(g, input, grid, interpolation_mode, padding_mode,
                                         align_corners)


def deploy_cfg_of(rewrite):
    """The deploy config in the context of our running ``rewrite``."""
    from mmdeploy.core.rewriters import FUNCTION_REWRITER
    from mmdeploy.core.rewriters.rewriter_utils import get_func_qualname
    return FUNCTION_REWRITER.get_context(get_func_qualname(rewrite)).cfg


def call_mmdeploy_rewrite(deploy_cfg, function, *args, **kwargs):
    """Calls mmdeploy's rewrite ``function`` from one of ours that replaced it, with the
    context (deploy config) it reads and would have had."""
    from mmdeploy.core.rewriters import FUNCTION_REWRITER
    from mmdeploy.core.rewriters.rewriter_utils import ContextCaller, get_func_qualname
    contexts = FUNCTION_REWRITER._func_contexts[get_func_qualname(function)]
    contexts.append(ContextCaller(function, None, deploy_cfg))
    try:
        return function(*args, **kwargs)
    finally:
        contexts.pop()


def rpn_per_level_nms(self, cls_scores, bbox_preds, score_factors=None, batch_img_metas=None,
                      cfg=None, rescale=False, with_nms=True, **kwargs):
    """mmdet's RPN suppresses the proposals of each level apart (batched_nms over level ids)
    and keeps the best ``max_per_img`` of them all; mmdeploy's RPN runs one NMS over every level
    (which gave other proposals, and other detections, on the demo detector). Here mmdeploy's
    decoding (``with_nms=False``: per level its ``nms_pre`` best, in level order) feeds its
    multi-class NMS with each level as a class of its own, after dropping the proposals mmdet
    drops for their size (which mmdeploy keeps)."""
    from mmdeploy.codebase.mmdet.models.dense_heads.rpn_head import rpn_head__predict_by_feat
    from mmdeploy.mmcv.ops import multiclass_nms
    cfg = self.test_cfg if cfg is None else cfg
    boxes, scores = call_mmdeploy_rewrite(deploy_cfg_of(rpn_per_level_nms),
                                          rpn_head__predict_by_feat,
                                          self, cls_scores, bbox_preds, score_factors,
                                          batch_img_metas, cfg, rescale, with_nms=False)
    if not with_nms:
        return boxes, scores
    per_level = cfg.get('nms_pre', -1)
    if per_level <= 0:
        raise ValueError('RPN test_cfg.nms_pre must be positive to export (it is '
                         f'{per_level}): the levels are told apart by their nms_pre blocks')
    # level l holds min(its anchors, nms_pre) rows, the levels in order
    counts = torch.stack([torch.clamp(torch._shape_as_tensor(score)[1:].prod() //
                                      self.cls_out_channels, max=per_level)
                          for score in cls_scores])
    rows = torch.arange(torch._shape_as_tensor(scores)[1], device=scores.device)
    level_of_row = (rows[:, None] >= torch.cumsum(counts, 0)[None]).sum(1)
    one_hot = level_of_row[:, None] == torch.arange(len(cls_scores), device=scores.device)[None]
    scores = scores * one_hot.to(scores.dtype)[None]
    if cfg.get('min_bbox_size', -1) >= 0:  # mmdet drops proposals this small (0: empty ones)
        size = boxes[..., 2:4] - boxes[..., 0:2]
        scores = scores * (size > cfg.min_bbox_size).all(-1, keepdim=True).to(scores.dtype)
    return multiclass_nms(boxes, scores,
                          int(cfg.max_per_img), iou_threshold=cfg.nms.iou_threshold,
                          score_threshold=0.0, pre_top_k=-1, keep_top_k=int(cfg.max_per_img))


def rcnn_class_specific_boxes(self, rois, cls_scores, bbox_preds, batch_img_metas,
                              rcnn_test_cfg=None, rescale=False):
    """mmdet's R-CNN test with class-specific regression: every class keeps its own box and its
    own NMS (mmdet's multiclass_nms). mmdeploy gives every class the box of the best-scoring
    class (other boxes, and detections mmdet does not make, on the demo detector). Here each
    (RoI, class) pair is a candidate of its class alone in mmdeploy's multi-class NMS.
    Class-agnostic heads go to mmdeploy's rewrite as they are."""
    from mmdeploy.codebase.mmdet.models.roi_heads.bbox_head import bbox_head__predict_by_feat
    from mmdeploy.mmcv.ops import multiclass_nms
    from mmdeploy.codebase.mmdet.deploy import get_post_processing_params
    from mmdet.structures.bbox import get_box_tensor
    deploy_cfg = deploy_cfg_of(rcnn_class_specific_boxes)
    if self.reg_class_agnostic or bbox_preds is None or self.custom_cls_channels:
        return call_mmdeploy_rewrite(deploy_cfg, bbox_head__predict_by_feat, self, rois,
                                     cls_scores, bbox_preds, batch_img_metas, rcnn_test_cfg,
                                     rescale)
    scores = torch.softmax(cls_scores, dim=-1)[..., :self.num_classes]
    boxes = get_box_tensor(self.bbox_coder.decode(
        rois[..., 1:], bbox_preds, max_shape=batch_img_metas[0]['img_shape']))
    batch = scores.shape[0]
    boxes = boxes.reshape(batch, -1, 4)  # (RoI, class) pairs, class fastest
    pairs = torch.arange(torch._shape_as_tensor(boxes)[1], device=boxes.device)
    own_class = (pairs[:, None] % self.num_classes ==
                 torch.arange(self.num_classes, device=boxes.device)[None])
    scores = scores.reshape(batch, -1, 1) * own_class.to(scores.dtype)[None]
    return multiclass_nms(
        boxes, scores, get_post_processing_params(deploy_cfg).max_output_boxes_per_class,
        iou_threshold=rcnn_test_cfg.nms.iou_threshold, score_threshold=rcnn_test_cfg.score_thr,
        pre_top_k=-1, keep_top_k=rcnn_test_cfg.max_per_img)


def cascade_class_specific_refinement(self, x, batch_img_metas, rpn_results_list, rcnn_test_cfg,
                                      rescale=False, **kwargs):
    """mmdet's cascade test: each stage but the last moves every RoI by the deltas of its best
    class (its ``regress_by_class``), the stages' logits are averaged, the last stage's boxes go
    to its head's post-processing. mmdeploy refines class-agnostically only (it asserts that),
    and the published Cascade Mask R-CNN regresses per class. Batched: (N images, R RoIs)."""
    from mmdeploy.codebase.mmdet.models.roi_heads.cascade_roi_head import (
        cascade_roi_head__predict_bbox)
    from mmdet.structures.bbox import get_box_tensor
    if all(head.reg_class_agnostic for head in self.bbox_head[:-1]):
        return call_mmdeploy_rewrite(deploy_cfg_of(cascade_class_specific_refinement),
                                     cascade_roi_head__predict_bbox, self, x, batch_img_metas,
                                     rpn_results_list, rcnn_test_cfg, rescale, **kwargs)
    proposals = rpn_results_list[0]
    batch, count = proposals.shape[0], proposals.shape[1]
    image_index = torch.arange(batch, device=proposals.device).to(proposals.dtype)
    image_index = image_index.view(-1, 1, 1).expand(batch, count, 1)
    rois = torch.cat([image_index, proposals[..., :4]], -1).reshape(-1, 5)
    stage_scores = []
    for stage in range(self.num_stages):
        results = self._bbox_forward(stage, x, rois)
        cls_score, bbox_pred = results['cls_score'], results['bbox_pred']
        stage_scores.append(cls_score)
        if stage == self.num_stages - 1:
            break
        head = self.bbox_head[stage]
        if not head.reg_class_agnostic:
            best = cls_score[:, :-1].argmax(1)
            bbox_pred = torch.gather(bbox_pred.reshape(best.shape[0], -1, 4), 1,
                                     best.view(-1, 1, 1).expand(-1, 1, 4)).reshape(-1, 4)
        boxes = head.bbox_coder.decode(rois[:, 1:].reshape(batch, count, 4),
                                       bbox_pred.reshape(batch, count, 4),
                                       max_shape=batch_img_metas[0]['img_shape'])
        rois = torch.cat([rois[:, :1], get_box_tensor(boxes).reshape(-1, 4)], 1)
    cls_scores = (sum(stage_scores) / len(stage_scores)).reshape(batch, count, -1)
    return self.bbox_head[-1].predict_by_feat(
        rois=rois.reshape(batch, count, 5), cls_scores=cls_scores,
        bbox_preds=bbox_pred.reshape(batch, count, -1), batch_img_metas=batch_img_metas,
        rcnn_test_cfg=rcnn_test_cfg, rescale=rescale)


def detr_top_queries(self, all_cls_scores_list, all_bbox_preds_list, batch_img_metas,
                     rescale=True):
    """mmdet's DETR-family selection of the ``max_per_img`` best (query, class) pairs of each
    image, batched. mmdeploy's gathers the boxes with a batch offset of ``max_per_img`` rows
    instead of ``num_queries`` (wrong boxes from the second image on, or an index error, unless
    the two are equal; DINO keeps 300 of 900)."""
    from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
    if not self.loss_cls.use_sigmoid:
        raise ValueError(f'{type(self).__name__} with softmax scores cannot be exported here '
                         '(the DETR-family heads of the published recipes use sigmoid scores)')
    cls_scores, bbox_preds = all_cls_scores_list[-1], all_bbox_preds_list[-1]
    max_per_img = self.test_cfg.get('max_per_img', cls_scores.shape[1])
    scores, indexes = cls_scores.sigmoid().flatten(1).topk(max_per_img, dim=1)
    labels = indexes % self.num_classes
    query = torch.div(indexes, self.num_classes, rounding_mode='floor')
    boxes = torch.gather(bbox_preds, 1, query[..., None].expand(-1, -1, 4))
    height, width = batch_img_metas[0]['img_shape']
    size = torch.stack([width, height, width, height]).to(boxes.dtype)
    boxes = bbox_cxcywh_to_xyxy(boxes).clamp(0, 1) * size
    return torch.cat([boxes, scores[..., None]], -1), labels


# Our rewrites for ONNX Runtime, by the mmdet function each replaces (mmdeploy's own for it
# stays registered for the default backend).
OUR_REWRITES = {
    'mmdet.models.dense_heads.rpn_head.RPNHead.predict_by_feat': rpn_per_level_nms,
    'mmdet.models.dense_heads.DeformableDETRHead.predict_by_feat': detr_top_queries,
    'mmdet.models.roi_heads.bbox_heads.bbox_head.BBoxHead.predict_by_feat':
        rcnn_class_specific_boxes,
    'mmdet.models.roi_heads.cascade_roi_head.CascadeRoIHead.predict_bbox':
        cascade_class_specific_refinement,
}


@functools.lru_cache(maxsize=None)
def _register_rewriters():
    from mmdeploy.core.rewriters import FUNCTION_REWRITER, SYMBOLIC_REWRITER
    SYMBOLIC_REWRITER.register_symbolic('grid_sampler', is_pytorch=True,
                                        backend='onnxruntime')(standard_grid_sample)
    for function, rewrite in OUR_REWRITES.items():
        FUNCTION_REWRITER.register_rewriter(function, backend='onnxruntime')(rewrite)


def deploy_config(model_cfg, dynamic_axes, opset_version):
    """mmdeploy's deploy config for an ONNX Runtime detector whose post-processing takes every
    number mmdet's test_cfg states (score threshold, NMS IoU, boxes per image); the two mmdeploy
    adds are set so that they cut nothing mmdet keeps: no top-k before NMS, and a per-class cap
    as large as the largest per-image count (RPN or R-CNN)."""
    from mmengine import Config
    test_cfg = model_cfg.get('test_cfg') or {}
    rcnn = test_cfg.get('rcnn', test_cfg)
    keep = int(rcnn.get('max_per_img', 100))
    # mmdeploy caps every NMS it writes, the RPN's included, at max_output_boxes_per_class
    largest = max(keep, int(test_cfg.get('rpn', {}).get('max_per_img', 0)))
    return Config(dict(
        # mmdeploy writes sizes into the graph as constants unless the first input name has
        # dynamic height and width here
        onnx_config=dict(type='onnx', opset_version=opset_version, input_names=['image'],
                         dynamic_axes=dynamic_axes, input_shape=None),
        codebase_config=dict(type='mmdet', task='ObjectDetection', model_type='end2end',
                             # mmdeploy's defaults where mmdet's test_cfg states none
                             post_processing=dict(
                                 score_threshold=0.0, confidence_threshold=0.0,
                                 iou_threshold=float(rcnn.get('nms', {}).get('iou_threshold',
                                                                             0.5)),
                                 max_output_boxes_per_class=largest, pre_top_k=-1,
                                 keep_top_k=keep, background_label_id=-1,
                                 export_postprocess_mask=False)),
        backend_config=dict(type='onnxruntime')))


@contextlib.contextmanager
def detector_rewriting(model, deploy_cfg, opset_version):
    """Yields ``model`` patched by mmdeploy, with its rewriters active while inside."""
    import mmdeploy.codebase.mmdet.models  # noqa: F401  (registers mmdeploy's mmdet rewriters)
    import mmdeploy.apis.onnx  # noqa: F401  (its rewrite of torch.onnx's graph passes)
    from mmdeploy.core import RewriterContext, patch_model
    from mmdeploy.utils import IR
    _register_rewriters()
    patched = patch_model(model, cfg=deploy_cfg, backend='onnxruntime', ir=IR.ONNX)
    with torch_onnx_helpers_mmdeploy_imports(), RewriterContext(
            cfg=deploy_cfg, backend='onnxruntime', ir=IR.ONNX, opset=opset_version):
        yield patched
