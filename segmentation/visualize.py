"""A segmentor's result on one image as a colour overlay drawn by mmseg's SegLocalVisualizer:
what ``tools/image_demo.py`` runs for configs whose default_scope is 'mmseg'."""
import os

import mmcv
from mmseg.apis import inference_model, init_model
from mmseg.visualization import SegLocalVisualizer


def draw_segmentation(image, result, dataset_meta, out_file, opacity=0.5):
    """Saves ``image`` (RGB array) with the predicted classes of ``result`` (a SegDataSample)
    painted over it in the palette of ``dataset_meta``, each region labelled with its class."""
    visualizer = SegLocalVisualizer.get_instance(f'seg_image_demo_{os.getpid()}', alpha=opacity)
    visualizer.set_dataset_meta(classes=dataset_meta['classes'], palette=dataset_meta['palette'])
    visualizer.add_datasample('result', image, data_sample=result, draw_gt=False, show=False,
                              out_file=out_file)


def run_image_demo(config, checkpoint, image, out_file, device='cpu', opacity=0.5):
    """Runs the segmentor of ``config`` (a path or a Config) with the weights of ``checkpoint``
    (class names and palette from its meta data) on the image file ``image``, saves the overlay
    to ``out_file`` and returns the SegDataSample."""
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity must be in (0, 1], got {opacity}')
    if not os.path.isfile(image):
        raise FileNotFoundError(f'image not found: {image}')
    model = init_model(config, checkpoint, device=device)
    result = inference_model(model, image)
    draw_segmentation(mmcv.imread(image, channel_order='rgb'), result, model.dataset_meta,
                      out_file, opacity)
    return result
