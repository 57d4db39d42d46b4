"""iNaturalist 2018 as the published InternImage-H fine-tune read and used it (its
classification/dataset/cached_image_folder.py, INat18*, and models/intern_image_meta_former.py):
each image comes with its date and place, which the classifier embeds and adds to its logits.

``INaturalist2018Dataset``: the official layout (``<root>/{train,val}2018.json`` with the
images, annotations and categories, ``<root>/{train,val}2018_locations.json`` with ``date``,
``lat``, ``lon`` per image, image paths relative to ``<root>`` or to ``<root>/<data_prefix>``).
Sample i is the i-th entry of
``images``, of ``annotations`` and of the locations file (the published reader relied on the
three lists being in the same order; here a file whose ids disagree is refused); the label is
the position of the annotation's category in ``categories``. Images are decoded by OpenCV, as
published. Samples: ``dict(inputs=[image, date code, place code], data_samples=label)``.

- date code (4 values): ``[sin(2 pi m / 12), cos(2 pi m / 12), 0, 0]`` for month m of a date
  starting ``Y-M-D``; the hour terms are always 0 (the published call drops the hour); zeros
  when the date is missing or does not parse.
- place code (3 values): the unit vector ``[cos(lat) cos(lon), cos(lat) sin(lon), sin(lat)]``
  (degrees); zeros when either coordinate is missing or exactly 0 (the published test is
  ``if latitude and longitude``).

``InternImageMetaClassifier``: ``InternImageClassifier`` plus the published meta heads, whose
weights are named as in the released checkpoint (``meta_head_1.*``, ``meta_head_2.*``,
``meta_norm.*``, ``meta_head.*``): logits = head(image features) + meta_head(meta_norm([
meta_head_1(date code), meta_head_2(place code)])), each meta head being Linear -> ReLU ->
LayerNorm -> a residual block (Linear, ReLU, LayerNorm, Linear, ReLU, LayerNorm).
``head_init_scale`` multiplies the initial head weights (the published fine-tune from a
22k checkpoint re-initialised its head to 0.001 times the initialisation: RAND_INIT_FT_HEAD).
"""
import json
import math
import os
import re

import torch
import torch.nn as nn
from mmengine.registry import DATASETS, MODELS

from internimage.models.internimage import InternImageClassifier, init_internimage_weights

from .data import ClassificationSamples, read_image_file

DATE = re.compile(r'(\d*)-(\d*)-(\d*)')
META_DIM = 64
DATE_CODE_SIZE = 4
PLACE_CODE_SIZE = 3


def date_code(date):
    """The 4-value code of a date string (see the module's docstring)."""
    if not isinstance(date, str) or not date:
        return [0.0] * DATE_CODE_SIZE
    match = DATE.match(date.strip())
    try:
        year, month, day = (int(part) for part in match.groups())
    except (AttributeError, ValueError):  # no match, or an empty field
        return [0.0] * DATE_CODE_SIZE
    angle = 2 * math.pi * month / 12
    return [math.sin(angle), math.cos(angle), 0.0, 0.0]


def place_code(latitude, longitude):
    """The 3-value code of a place in degrees (see the module's docstring)."""
    if not (latitude and longitude):
        return [0.0] * PLACE_CODE_SIZE
    lat, lon = math.radians(latitude), math.radians(longitude)
    return [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]


def read_json(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f'iNaturalist annotation file not found: {path}')
    with open(path) as f:
        return json.load(f)


@DATASETS.register_module()
class INaturalist2018Dataset(ClassificationSamples):
    """``data_root``: the folder of ``{split}2018.json``; ``data_prefix``: the folder, relative
    to it, that the images' ``file_name`` entries are relative to ('' as published);
    ``split``: 'train' or 'val'; ``transform``: keyword arguments of
    ``timm.data.create_transform``; ``decoder``: 'cv2' (published) or 'pil'."""

    def __init__(self, data_root, split='train', data_prefix='', transform=None,
                 test_mode=False, decoder='cv2'):
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        self.set_reading(transform, test_mode, decoder)
        data = read_json(os.path.join(data_root, f'{split}2018.json'))
        places = read_json(os.path.join(data_root, f'{split}2018_locations.json'))
        images, annotations = data['images'], data['annotations']
        if not len(images) == len(annotations) == len(places):
            raise ValueError(f'{split}2018: {len(images)} images, {len(annotations)} '
                             f'annotations and {len(places)} locations; one each expected')
        label_of = {category['id']: i for i, category in enumerate(data['categories'])}
        self.classes = [category.get('name', str(category['id']))
                        for category in data['categories']]
        self.samples = []
        for image, annotation, place in zip(images, annotations, places):
            if annotation['image_id'] != image['id'] or place.get('id', image['id']) != \
                    image['id']:
                raise ValueError(f'{split}2018: image {image["id"]} is listed beside the '
                                 f'annotation of image {annotation["image_id"]} or the '
                                 f'location of {place.get("id")}; the lists must be in '
                                 'the same order')
            self.samples.append((os.path.join(data_root, data_prefix, image['file_name']),
                                 label_of[annotation['category_id']],
                                 date_code(place.get('date')),
                                 place_code(place.get('lat'), place.get('lon'))))

    def __getitem__(self, index):
        path, label, date, place = self.samples[index]
        image = self.transform(read_image_file(path, self.decoder))
        return dict(inputs=[image, torch.tensor(date, dtype=torch.float32),
                            torch.tensor(place, dtype=torch.float32)],
                    data_samples=label)


class MetaEncoder(nn.Module):
    """The residual block of a meta head (parameter names as published)."""

    def __init__(self, dim):
        super().__init__()
        self.w1 = nn.Linear(dim, dim)
        self.norm_fn1 = nn.LayerNorm(dim)
        self.w2 = nn.Linear(dim, dim)
        self.norm_fn2 = nn.LayerNorm(dim)

    def forward(self, x):
        y = self.norm_fn1(torch.relu(self.w1(x)))
        return x + self.norm_fn2(torch.relu(self.w2(y)))


def meta_head(in_features, dim):
    return nn.Sequential(nn.Linear(in_features, dim), nn.ReLU(inplace=True), nn.LayerNorm(dim),
                         MetaEncoder(dim))


@MODELS.register_module()
class InternImageMetaClassifier(InternImageClassifier):
    """An InternImage classifier whose input is ``[images, date codes (N, 4), place codes
    (N, 3)]`` (see the module's docstring). Options: those of ``InternImageClassifier``,
    ``meta_dim`` (64 as published) and ``head_init_scale``."""

    def __init__(self, arch=None, meta_dim=META_DIM, head_init_scale=1.0, **options):
        super().__init__(arch, **options)
        num_classes = self.head.out_features if isinstance(self.head, nn.Linear) else 0
        if num_classes == 0:
            raise ValueError('InternImageMetaClassifier needs num_classes > 0')
        self.meta_head_1 = meta_head(DATE_CODE_SIZE, meta_dim)
        self.meta_head_2 = meta_head(PLACE_CODE_SIZE, meta_dim)
        self.meta_norm = nn.LayerNorm(2 * meta_dim, eps=1e-6)
        self.meta_head = nn.Linear(2 * meta_dim, num_classes)
        for part in (self.meta_head_1, self.meta_head_2, self.meta_head):
            init_internimage_weights(part)
        with torch.no_grad():
            self.head.weight.mul_(head_init_scale)
            self.head.bias.mul_(head_init_scale)

    def forward(self, x):
        if not isinstance(x, (list, tuple)) or len(x) != 3:
            raise TypeError('InternImageMetaClassifier takes [images, date codes, place codes], '
                            f'got {type(x).__name__}')
        images, dates, places = x
        meta = torch.cat([self.meta_head_1(dates), self.meta_head_2(places)], dim=-1)
        return self.head(self.forward_features(images)) + self.meta_head(self.meta_norm(meta))
