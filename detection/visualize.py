"""A detector's results on one image, drawn by mmdet's own visualizer (boxes, masks, class names
and scores): what ``tools/image_demo.py`` runs for configs whose default_scope is 'mmdet'."""
import numpy as np
from mmdet.apis import inference_detector, init_detector
from mmdet.visualization import DetLocalVisualizer

from internimage.models.images import pad_to_aspect_ratio, read_rgb


def draw_detections(image, result, dataset_meta, out_file, score_thr=0.3):
    """Saves ``image`` (RGB array) with the detections of ``result`` (a DetDataSample) scoring
    at least ``score_thr``; class names and colours come from ``dataset_meta``."""
    visualizer = DetLocalVisualizer.get_instance('detection_image_demo')
    visualizer.dataset_meta = dataset_meta
    visualizer.add_datasample('result', image, data_sample=result, draw_gt=False, show=False,
                              pred_score_thr=score_thr, out_file=out_file)


def crop_detections(result, height, width):
    """``result`` of an image padded by pad_to_aspect_ratio, cut back to the image's ``height``
    x ``width``: boxes clipped to it (those left empty, in the padding, dropped), masks cut."""
    boxes = result.pred_instances.bboxes
    boxes[:, 0::2].clamp_(0, width)
    boxes[:, 1::2].clamp_(0, height)
    instances = result.pred_instances[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
    if 'masks' in instances:
        instances.masks = instances.masks[:, :height, :width]
    result.pred_instances = instances
    result.set_metainfo(dict(ori_shape=(height, width)))
    return result


def run_image_demo(config, checkpoint, image, out_file, device='cpu', score_thr=0.3):
    """Runs the detector of ``config`` (a path or a Config) with the weights of ``checkpoint``
    (class names from its meta data) on ``image`` (a file, a PIL image or an RGB
    array; wide sample types by internimage.models.images; a strip padded to a shape the model
    takes), saves the picture to ``out_file`` and returns the DetDataSample."""
    if not 0 <= score_thr <= 1:
        raise ValueError(f'score_thr must be in [0, 1], got {score_thr}')
    rgb = read_rgb(image)  # before the model is built: a bad file is named first
    model = init_detector(config, checkpoint, device=device)
    padded = pad_to_aspect_ratio(rgb)
    result = inference_detector(model, np.ascontiguousarray(padded[..., ::-1]))  # BGR, as mmcv
    if padded is not rgb:
        result = crop_detections(result, *rgb.shape[:2])
    draw_detections(rgb, result, model.dataset_meta, out_file, score_thr)
    return result
