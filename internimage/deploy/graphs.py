"""Whole models as modules whose forward traces into one ONNX graph: the loaded image in, the
results for that image out (boxes and masks in its pixels, a label map of its size).

Detectors run mmdet's predict path under mmdeploy's rewriters (``mmdeploy_stack``); segmentors
run mmseg's whole-image inference as it is, with adaptive average pooling written so that the
graph keeps dynamic sizes (``DynamicAdaptiveAvgPool2d``)."""
import contextlib

import torch
import torch.nn.functional as F
from torch import nn


def pooling_matrix(size, bins):
    """(bins, size) matrix averaging each of PyTorch's adaptive-pooling bins: bin i covers
    [floor(i*size/bins), ceil((i+1)*size/bins))."""
    index = torch.arange(bins, device=size.device)
    start = torch.div(index * size, bins, rounding_mode='floor')
    end = torch.div((index + 1) * size + bins - 1, bins, rounding_mode='floor')
    positions = torch.arange(size, device=size.device)
    inside = ((positions[None] >= start[:, None]) & (positions[None] < end[:, None])).float()
    return inside / inside.sum(1, keepdim=True)


class DynamicAdaptiveAvgPool2d(nn.Module):
    """nn.AdaptiveAvgPool2d as two matrix products, which ONNX keeps for any input size (the
    exporter writes adaptive pooling as an AveragePool sized for the traced input)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = ((output_size, output_size) if isinstance(output_size, int)
                            else tuple(output_size))

    def forward(self, x):
        shape = torch._shape_as_tensor(x)
        rows = pooling_matrix(shape[2], self.output_size[0]).to(x.dtype)
        columns = pooling_matrix(shape[3], self.output_size[1]).to(x.dtype)
        return torch.matmul(torch.matmul(rows, x), columns.t())


@contextlib.contextmanager
def dynamic_adaptive_pooling(model):
    """Swaps every nn.AdaptiveAvgPool2d of ``model`` for DynamicAdaptiveAvgPool2d while
    inside."""
    swapped = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if type(child) is nn.AdaptiveAvgPool2d:
                setattr(parent, name, DynamicAdaptiveAvgPool2d(child.output_size))
                swapped.append((parent, name, child))
    try:
        yield model
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def traced_size(images):
    """(h, w) of a batch, kept in the graph while tracing."""
    shape = torch._shape_as_tensor(images)
    return shape[2], shape[3]


class SegmentorGraph(nn.Module):
    """mmseg's whole-image inference: preprocess, encode-decode at the network input's size,
    padding cut off, scores resized bilinearly to the image, argmax -> (N, H, W) int64."""

    def __init__(self, segmentor, preprocess):
        super().__init__()
        if segmentor.test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError(f"test_cfg.mode={segmentor.test_cfg.mode!r} cannot be exported "
                             "(only 'whole'; slide inference crops a data-dependent number of "
                             'windows)')
        self.segmentor = segmentor
        self.preprocess = preprocess

    def forward(self, images):
        height, width = traced_size(images)
        inputs, resized = self.preprocess(images)
        input_size = traced_size(inputs)
        metas = [dict(img_shape=input_size, pad_shape=input_size)]
        head = self.segmentor.decode_head
        scores = head.predict(self.segmentor.extract_feat(inputs), metas,
                              self.segmentor.test_cfg)
        scores = scores[:, :, :resized[0].long(), :resized[1].long()]
        scores = F.interpolate(scores, size=(height, width), mode='bilinear',
                               align_corners=head.align_corners)
        if scores.shape[1] == 1:  # mmseg's binary heads: a threshold on the sigmoid
            return (scores.sigmoid() > head.threshold).long()[:, 0]
        return scores.argmax(1)


class DetectorGraph(nn.Module):
    """mmdet's predict under mmdeploy's rewriters: preprocess, detect in the network input, then
    boxes scaled to the image (mmdet's ``rescale=True``) and, for instance segmentation, the
    masks pasted into it as mmdet pastes them. Outputs per image padded to the batch's largest
    count: boxes (N, K, 4), scores (N, K), labels (N, K) with -1 (and score 0) on padding, and
    masks (N, K, H, W) bool."""

    def __init__(self, detector, preprocess, example_batch):
        super().__init__()
        from mmdet.structures import DetDataSample
        self.detector = detector
        self.preprocess = preprocess
        self.with_masks = bool(getattr(detector, 'with_mask', False))
        self.samples = [DetDataSample() for _ in range(example_batch)]
        if self.with_masks:
            self.mask_threshold = float(detector.test_cfg.rcnn.mask_thr_binary)

    def forward(self, images):
        from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
        height, width = traced_size(images)
        inputs, resized = self.preprocess(images)
        for sample in self.samples:  # DETRs read it (and, exporting, make no padding masks)
            sample.set_metainfo(dict(batch_input_shape=tuple(int(v) for v in inputs.shape[2:])))
        outputs = self.detector(inputs, self.samples, mode='predict')
        dets, labels = outputs[0], outputs[1]
        size = torch.stack([height, width]).to(resized.dtype)
        scale = (resized / size).flip(0).repeat(2)  # (w, h, w, h): mmdet's scale_factor
        boxes = dets[..., :4] / scale
        scores = dets[..., 4]
        if not self.with_masks:
            return boxes, scores, labels
        batch, count = labels.shape
        masks, _ = _do_paste_mask(outputs[2].reshape(batch * count, 1, *outputs[2].shape[2:]),
                                  boxes.reshape(-1, 4), height, width, skip_empty=False)
        masks = masks.reshape(batch, count, height, width) >= self.mask_threshold
        return boxes, scores, labels, masks
