"""Pictures of classification results: a grid of test images captioned with the predicted and
true class, saved by a hook during ``tools/test.py --show-dir`` (mmdet and mmseg draw their own)."""
import math
import os

import cv2
import numpy as np
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

CAPTION_HEIGHT = 14


def to_uint8_images(inputs, mean, std):
    """(N, H, W, 3) uint8 RGB pictures of a normalised NCHW batch."""
    mean = np.asarray(mean, dtype=np.float32)[:, None, None]
    std = np.asarray(std, dtype=np.float32)[:, None, None]
    images = inputs.detach().float().cpu().numpy() * std + mean
    return (np.clip(images, 0, 1) * 255).round().astype(np.uint8).transpose(0, 2, 3, 1)


def captioned_grid(images, captions, colours, columns=8):
    """One picture: images in a grid, each with its caption in its colour underneath."""
    n, height, width, _ = images.shape
    rows = math.ceil(n / columns)
    cell_h = height + CAPTION_HEIGHT
    grid = np.full((rows * cell_h, min(n, columns) * width, 3), 255, np.uint8)
    for i, (image, caption, colour) in enumerate(zip(images, captions, colours)):
        y, x = (i // columns) * cell_h, (i % columns) * width
        grid[y:y + height, x:x + width] = image
        cv2.putText(grid, caption, (x + 2, y + cell_h - 3), cv2.FONT_HERSHEY_SIMPLEX,
                    0.3, colour, 1, cv2.LINE_AA)
    return grid


@HOOKS.register_module()
class ClassificationVisualizationHook(Hook):
    """With ``draw=True`` saves, for the first ``max_batches`` test batches, a grid captioned
    'prediction/truth' (green when right, red when wrong) under ``test_out_dir`` (relative to
    the run's log dir unless absolute), as mmdet's DetVisualizationHook does."""

    def __init__(self, draw=False, test_out_dir='vis', max_batches=4,
                 mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD):
        self.draw = draw
        self.test_out_dir = test_out_dir
        self.max_batches = max_batches
        self.mean, self.std = mean, std

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not self.draw or batch_idx >= self.max_batches:
            return
        out_dir = os.path.join(runner.log_dir, self.test_out_dir)
        os.makedirs(out_dir, exist_ok=True)
        classes = runner.test_dataloader.dataset.metainfo.get('classes')

        def name(label):
            return classes[label] if classes else str(label)

        captions = [f"{name(o['pred_label'])}/{name(o['gt_label'])}" for o in outputs]
        colours = [(0, 160, 0) if o['pred_label'] == o['gt_label'] else (200, 0, 0)
                   for o in outputs]
        grid = captioned_grid(to_uint8_images(data_batch['inputs'], self.mean, self.std),
                              captions, colours)
        cv2.imwrite(os.path.join(out_dir, f'batch_{batch_idx:03d}.png'), grid[..., ::-1])
