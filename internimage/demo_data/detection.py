"""The embedded detection data set: rendered scenes of several shapes on textured backgrounds
(``internimage.demo_data.shapes``), written as COCO instances so that mmdet's own
CocoDataset and CocoMetric read it unchanged:

    out_dir/train/000000.png ...   out_dir/annotations/instances_train.json
    out_dir/val/000000.png ...     out_dir/annotations/instances_val.json

Each object has its class (the shape kind), a polygon (the exact outline that was drawn), its
xywh box and area, iscrowd 0. Deterministic for a seed; a complete set with the same settings
is recognised and kept."""
import json
import os
import shutil

import cv2
import numpy as np

from .shapes import SHAPE_KINDS, render_scene
from .write_once import write_once

SPLITS = ('train', 'val')


def annotation_file(out_dir, split):
    return os.path.join(out_dir, 'annotations', f'instances_{split}.json')


def polygon_area(polygon):
    """Shoelace area of a (K, 2) polygon."""
    x, y = polygon[:, 0].astype(np.float64), polygon[:, 1].astype(np.float64)
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def coco_object(polygon, label, object_id, image_id):
    """The COCO annotation of one shape: category ids start at 1, as in COCO."""
    x_min, y_min = polygon.min(axis=0)
    x_max, y_max = polygon.max(axis=0)
    return dict(id=object_id, image_id=image_id, category_id=label + 1, iscrowd=0,
                bbox=[round(float(v), 2) for v in (x_min, y_min, x_max - x_min, y_max - y_min)],
                area=round(polygon_area(polygon), 2),
                segmentation=[[round(float(v), 2) for v in polygon.reshape(-1)]])


def write_split(out_dir, split, num_images, image_size, num_classes, max_objects, rng,
                advance=None):
    """Renders one split's images and writes its annotation file."""
    image_dir = os.path.join(out_dir, split)
    shutil.rmtree(image_dir, ignore_errors=True)  # no stale images of an earlier setting
    os.makedirs(image_dir)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        count = int(rng.integers(1, max_objects + 1))
        image, objects = render_scene(rng, image_size, image_size, count, num_classes)
        file_name = f'{image_id:06d}.png'
        cv2.imwrite(os.path.join(image_dir, file_name), image[..., ::-1])
        images.append(dict(id=image_id, file_name=file_name, height=image_size,
                           width=image_size))
        for label, polygon in objects:
            annotations.append(coco_object(polygon, label, len(annotations) + 1, image_id))
        if advance:
            advance()
    categories = [dict(id=i + 1, name=kind, supercategory='shape')
                  for i, kind in enumerate(SHAPE_KINDS[:num_classes])]
    with open(annotation_file(out_dir, split), 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)


def check_arguments(num_train, num_val, image_size, num_classes, max_objects):
    problems = []
    if num_train < 1 or num_val < 1:
        problems.append(f'num_train and num_val must be >= 1 (got {num_train}, {num_val})')
    if image_size < 32:
        problems.append(f'image_size must be >= 32 pixels (got {image_size})')
    if not 1 <= num_classes <= len(SHAPE_KINDS):
        problems.append(f'num_classes must be in [1, {len(SHAPE_KINDS)}] (got {num_classes})')
    if max_objects < 1:
        problems.append(f'max_objects must be >= 1 (got {max_objects})')
    if problems:
        raise ValueError('detection demo data: ' + '; '.join(problems))


def generate(out_dir, num_train=320, num_val=64, image_size=160, seed=0, num_classes=4,
             max_objects=4, progress=None):
    """Writes the set under ``out_dir`` unless the same set is already complete there; returns
    out_dir. Each image holds 1..``max_objects`` shapes of the first ``num_classes`` kinds.
    The splits draw from separate random streams, so the validation images do not change
    when ``num_train`` does. ``progress``, when given, is called with the number of images to
    write and returns the callable then called once per written image."""
    check_arguments(num_train, num_val, image_size, num_classes, max_objects)
    settings = dict(num_train=num_train, num_val=num_val, image_size=image_size, seed=seed,
                    num_classes=num_classes, max_objects=max_objects)
    return write_once(out_dir, settings, lambda root: write_splits(root, settings, progress),
                      required=[annotation_file('', split) for split in SPLITS])


def write_splits(out_dir, settings, progress=None):
    """Both splits, each from its own random stream."""
    os.makedirs(os.path.join(out_dir, 'annotations'), exist_ok=True)
    counts = (settings['num_train'], settings['num_val'])
    advance = progress(sum(counts)) if progress else None
    for index, (split, count) in enumerate(zip(SPLITS, counts)):
        write_split(out_dir, split, count, settings['image_size'], settings['num_classes'],
                    settings['max_objects'], np.random.default_rng([settings['seed'], index]),
                    advance)
