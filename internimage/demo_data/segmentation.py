"""The embedded segmentation data set: rendered scenes of several shapes on textured backgrounds
(``internimage.demo_data.shapes``), written in the ADE20K layout so that mmseg reads it as it
reads ADE20K:

    out_dir/images/training/000000.jpg ...     out_dir/annotations/training/000000.png ...
    out_dir/images/validation/000000.jpg ...   out_dir/annotations/validation/000000.png ...

Label maps follow ADE's ``reduce_zero_label`` convention: 0 is "unlabeled" (ignored), 1 is the
background texture and 2.. are the shape kinds, so after mmseg subtracts one the classes are
``CLASSES`` (background first) and 0 becomes the ignore index 255. The unlabeled pixels are a
band along every shape's outline: there JPEG compression mixes the shape's and the background's
colours, and leaving it out of the loss and the metric is what VOC's void contours do.
Deterministic for a seed; a complete set with the same settings is recognised and kept."""
import os
import shutil

import cv2
import numpy as np

from .shapes import SHAPE_KINDS, fill_polygon, render_scene
from .write_once import write_once

NUM_SHAPE_KINDS = 4
CLASSES = ('background',) + SHAPE_KINDS[:NUM_SHAPE_KINDS]
UNLABELED = 0
BACKGROUND = 1  # label value on disk; shape kind k is written as k + 2
OUTLINE_WIDTH = 2
# shape radii as fractions of the image side: large enough that shapes cover about a quarter of
# the image (classes stay learnable in minutes), small enough that several fit
RADIUS_RANGE = (0.12, 0.25)
SPLITS = ('training', 'validation')
JPEG_QUALITY = 95


def label_map(height, width, objects):
    """(H, W) uint8 ADE-style labels of a scene: background, filled shapes, unlabeled outlines."""
    labels = np.full((height, width), BACKGROUND, np.uint8)
    for kind, polygon in objects:
        fill_polygon(labels, polygon, kind + 2)
    for _, polygon in objects:
        cv2.polylines(labels, [np.round(polygon).astype(np.int32)], isClosed=True,
                      color=UNLABELED, thickness=OUTLINE_WIDTH)
    return labels


def write_split(out_dir, split, num_images, image_size, max_objects, rng, advance=None):
    """Renders one split: images as JPEG (as ADE's), label maps as PNG (lossless)."""
    image_dir = os.path.join(out_dir, 'images', split)
    label_dir = os.path.join(out_dir, 'annotations', split)
    for folder in (image_dir, label_dir):
        shutil.rmtree(folder, ignore_errors=True)  # no stale files of an earlier setting
        os.makedirs(folder)
    for index in range(num_images):
        count = int(rng.integers(1, max_objects + 1))
        image, objects = render_scene(rng, image_size, image_size, count, NUM_SHAPE_KINDS,
                                      *(fraction * image_size for fraction in RADIUS_RANGE))
        name = f'{index:06d}'
        cv2.imwrite(os.path.join(image_dir, name + '.jpg'), image[..., ::-1],
                    [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        cv2.imwrite(os.path.join(label_dir, name + '.png'),
                    label_map(image_size, image_size, objects))
        if advance:
            advance()


def check_arguments(num_train, num_val, image_size, max_objects):
    problems = []
    if num_train < 1 or num_val < 1:
        problems.append(f'num_train and num_val must be >= 1 (got {num_train}, {num_val})')
    if image_size < 32:
        problems.append(f'image_size must be >= 32 pixels (got {image_size})')
    if max_objects < 1:
        problems.append(f'max_objects must be >= 1 (got {max_objects})')
    if problems:
        raise ValueError('segmentation demo data: ' + '; '.join(problems))


def generate(out_dir='data/demo/ade_shapes', num_train=400, num_val=80, image_size=128, seed=0,
             max_objects=6, progress=None):
    """Writes the set under ``out_dir`` unless the same set is already complete there; returns
    out_dir. Each image holds 1..``max_objects`` shapes. The splits draw from separate random
    streams, so the validation images do not change when ``num_train`` does. ``progress``,
    when given, is called with the number of images to write and returns the callable then
    called once per written image."""
    check_arguments(num_train, num_val, image_size, max_objects)
    settings = dict(num_train=num_train, num_val=num_val, image_size=image_size, seed=seed,
                    max_objects=max_objects, classes=list(CLASSES),
                    radius_range=list(RADIUS_RANGE))
    return write_once(out_dir, settings, lambda root: write_splits(root, settings, progress))


def write_splits(out_dir, settings, progress=None):
    """Both splits, each from its own random stream."""
    counts = (settings['num_train'], settings['num_val'])
    advance = progress(sum(counts)) if progress else None
    for index, (split, count) in enumerate(zip(SPLITS, counts)):
        write_split(out_dir, split, count, settings['image_size'], settings['max_objects'],
                    np.random.default_rng([settings['seed'], index]), advance)
