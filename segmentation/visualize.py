"""A segmentor's result on one image as a colour overlay drawn by mmseg's SegLocalVisualizer:
what ``tools/image_demo.py`` runs for configs whose default_scope is 'mmseg'."""
import os

import numpy as np
from mmengine.structures import PixelData
from mmseg.apis import inference_model, init_model
from mmseg.visualization import SegLocalVisualizer

from internimage.models.images import pad_to_aspect_ratio, read_rgb


def with_numpy_class_map(result):
    """``result`` with its class map as a numpy array: mmseg's visualizer indexes a numpy mask
    with the map, which as a one-element tensor (a 1x1 image) becomes an integer index."""
    shown = result.clone()
    shown.pred_sem_seg = PixelData(data=result.pred_sem_seg.data.cpu().numpy())
    return shown


def draw_segmentation(image, result, dataset_meta, out_file, opacity=0.5):
    """Saves ``image`` (RGB array) with the predicted classes of ``result`` (a SegDataSample)
    painted over it in the palette of ``dataset_meta``, each region labelled with its class."""
    visualizer = SegLocalVisualizer.get_instance(f'seg_image_demo_{os.getpid()}', alpha=opacity)
    visualizer.set_dataset_meta(classes=dataset_meta['classes'], palette=dataset_meta['palette'])
    visualizer.add_datasample('result', image, data_sample=with_numpy_class_map(result),
                              draw_gt=False, show=False, out_file=out_file)


def crop_segmentation(result, height, width):
    """``result`` of an image padded by pad_to_aspect_ratio, cut back to the image's ``height``
    x ``width``."""
    result.pred_sem_seg = result.pred_sem_seg[:height, :width]
    result.seg_logits = result.seg_logits[:height, :width]
    result.set_metainfo(dict(ori_shape=(height, width)))
    return result


def run_image_demo(config, checkpoint, image, out_file, device='cpu', opacity=0.5):
    """Runs the segmentor of ``config`` (a path or a Config) with the weights of ``checkpoint``
    (class names and palette from its meta data) on ``image`` (a file, a PIL image or an RGB
    array; wide sample types by internimage.models.images; a strip padded to a shape the model
    takes), saves the overlay to ``out_file`` and returns the SegDataSample."""
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], got {opacity}')
    rgb = read_rgb(image)  # before the model is built: a bad file is named first
    model = init_model(config, checkpoint, device=device)
    padded = pad_to_aspect_ratio(rgb)
    result = inference_model(model, np.ascontiguousarray(padded[..., ::-1]))  # BGR, as mmcv
    if padded is not rgb:
        result = crop_segmentation(result, *rgb.shape[:2])
    draw_segmentation(rgb, result, model.dataset_meta, out_file, opacity)
    return result
