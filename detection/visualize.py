"""A detector's results on one image, drawn by mmdet's own visualizer (boxes, masks, class names
and scores): what ``tools/image_demo.py`` runs for configs whose default_scope is 'mmdet'."""
import numpy as np
from mmdet.apis import inference_detector, init_detector
from mmdet.visualization import DetLocalVisualizer

from internimage.models.images import read_rgb


def draw_detections(image, result, dataset_meta, out_file, score_thr=0.3):
    """Saves ``image`` (RGB array) with the detections of ``result`` (a DetDataSample) scoring
    at least ``score_thr``; class names and colours come from ``dataset_meta``."""
    visualizer = DetLocalVisualizer.get_instance('detection_image_demo')
    visualizer.dataset_meta = dataset_meta
    visualizer.add_datasample('result', image, data_sample=result, draw_gt=False, show=False,
                              pred_score_thr=score_thr, out_file=out_file)


def run_image_demo(config, checkpoint, image, out_file, device='cpu', score_thr=0.3):
    """Runs the detector of ``config`` (a path or a Config) with the weights of ``checkpoint``
    (class names from its meta data) on ``image`` (a file, a PIL image or an RGB
    array; wide sample types by internimage.models.images), saves the picture to
    ``out_file`` and returns the DetDataSample."""
    if not 0 <= score_thr <= 1:
        raise ValueError(f'score_thr must be in [0, 1], got {score_thr}')
    rgb = read_rgb(image)  # before the model is built: a bad file is named first
    model = init_detector(config, checkpoint, device=device)
    result = inference_detector(model, np.ascontiguousarray(rgb[..., ::-1]))  # BGR, as mmcv loads
    draw_detections(rgb, result, model.dataset_meta, out_file, score_thr)
    return result
