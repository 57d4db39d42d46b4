"""The embedded classification data set: one rendered shape per image on a textured background,
the class being the shape's kind, written in the ImageNet folder layout (train/<class>/*.png,
val/<class>/*.png). Deterministic for a seed; a finished set is recognised and kept."""
import os
import shutil

import cv2
import numpy as np

from .shapes import SHAPE_KINDS, fill_polygon, random_colour, shape_polygon, textured_background
from .write_once import write_once

# The background's texture is blended towards grey by this weight: with the full texture of the
# detection/segmentation scenes, a small network from scratch needs far more than the demo's few
# minutes to tell shapes apart from a single image-level label.
BACKGROUND_CALM = 0.6


def render_sample(rng, kind, size):
    """A (size, size, 3) RGB image of one ``kind`` shape at a random place, size and angle."""
    texture = textured_background(rng, size, size).astype(np.float32)
    image = np.round(texture + BACKGROUND_CALM * (128 - texture)).astype(np.uint8)
    radius = rng.uniform(0.22, 0.42) * size
    center = rng.uniform(radius, size - radius, size=2)
    polygon = shape_polygon(kind, center, radius, rng.uniform(0, 2 * np.pi))
    return fill_polygon(image, polygon, random_colour(rng))


def generate(out_dir, num_train_per_class=100, num_val_per_class=20, image_size=64, seed=0,
             num_classes=len(SHAPE_KINDS), progress=None):
    """Writes the set under ``out_dir`` unless the same set is already there; returns out_dir.
    ``progress``, when given, is called with the number of images to write and returns the
    callable then called once per written image."""
    if not 1 < num_classes <= len(SHAPE_KINDS):
        raise ValueError(f'num_classes must be in [2, {len(SHAPE_KINDS)}], got {num_classes}')
    if min(num_train_per_class, num_val_per_class) < 1 or image_size < 16:
        raise ValueError('need at least one image per class and split, and image_size >= 16')
    settings = dict(num_train_per_class=num_train_per_class, image_size=image_size, seed=seed,
                    num_val_per_class=num_val_per_class, num_classes=num_classes)
    return write_once(out_dir, settings, lambda root: write_splits(
        root, num_train_per_class, num_val_per_class, image_size, seed, num_classes, progress))


def write_splits(out_dir, num_train_per_class, num_val_per_class, image_size, seed, num_classes,
                 progress=None):
    rng = np.random.default_rng(seed)
    advance = progress((num_train_per_class + num_val_per_class) * num_classes) if progress \
        else None
    for split, count in (('train', num_train_per_class), ('val', num_val_per_class)):
        shutil.rmtree(os.path.join(out_dir, split), ignore_errors=True)  # no stale images
        for kind in SHAPE_KINDS[:num_classes]:
            folder = os.path.join(out_dir, split, kind)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                image = render_sample(rng, kind, image_size)
                cv2.imwrite(os.path.join(folder, f'{kind}_{i:04d}.png'), image[..., ::-1])
                if advance:
                    advance()
