"""ImageNet-style classification data for mmengine's Runner: the folder layout
(``root/<class>/<image>``, ImageNet-1k and 22k) or a file list (``relative/path label`` per line),
with timm's transforms (RandAugment, random erasing, bicubic resize and centre crop).

Samples are ``dict(inputs=CHW float tensor, data_samples=label)``; configs collate them with
``default_collate`` into a batch tensor and a label tensor.

Images are decoded by PIL (``decoder='pil'``), or as the published training set read them
(``decoder='cv2'``: OpenCV's colour decoding, which converts CMYK and grey files itself, then
BGR -> RGB; the published code went through mmcv.imfrombytes). Both turn a file by its EXIF
orientation, as OpenCV does."""
import os

import cv2
import numpy as np
import torch
from mmengine.registry import DATASETS
from PIL import Image
from timm.data import create_transform

from internimage.models.images import load_upright

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
DECODERS = ('pil', 'cv2')


def read_image_file(path, decoder='pil'):
    """The RGB PIL image of file ``path``, decoded by ``decoder`` ('pil' or 'cv2'); an OSError
    naming the file if it cannot be read."""
    try:
        if decoder == 'cv2':
            data = np.fromfile(path, np.uint8)
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            if bgr is None:
                raise ValueError('OpenCV cannot decode it')
            return Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1]))
        return load_upright(path).convert('RGB')
    except (OSError, ValueError) as error:
        raise OSError(f'cannot read image {path}: {error}') from error


def scan_class_folders(root):
    """(samples, classes) of an ImageNet-style folder: one sub-folder per class, sorted by name
    (the ImageNet class index order). An empty class folder is an error, not a silent shift of
    every later class index."""
    classes = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
    if not classes:
        raise ValueError(f'no class folders found in {root} (expected {root}/<class>/<image>)')
    samples = []
    for label, name in enumerate(classes):
        folder = os.path.join(root, name)
        images = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS))
        if not images:
            raise ValueError(f'class folder {folder} holds no images ({IMAGE_EXTENSIONS})')
        samples.extend((os.path.join(folder, f), label) for f in images)
    return samples, classes


def read_file_list(ann_file, root):
    """(path, label) pairs of a file list: ``relative/path label`` per line, paths relative to
    ``root``."""
    samples = []
    with open(ann_file) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].lstrip('-').isdigit() or int(parts[1]) < 0:
                raise ValueError(f'{ann_file}:{number}: expected "relative/path label" with a '
                                 f'non-negative integer label, got {line.strip()!r}')
            samples.append((os.path.join(root, parts[0]), int(parts[1])))
    if not samples:
        raise ValueError(f'file list {ann_file} is empty')
    return samples


class ClassificationSamples(torch.utils.data.Dataset):
    """What the classification data sets share: ``samples`` and ``classes`` (set by the
    subclass), timm's transform built from its keyword arguments, and the image decoder."""

    def set_reading(self, transform, test_mode, decoder):
        if decoder not in DECODERS:
            raise ValueError(f'decoder must be one of {DECODERS}, got {decoder!r}')
        self.decoder = decoder
        self.test_mode = test_mode
        self.transform = create_transform(**dict(transform or {}, is_training=not test_mode))

    @property
    def metainfo(self):
        return dict(classes=self.classes)

    def __len__(self):
        return len(self.samples)


@DATASETS.register_module()
class ImageClassificationDataset(ClassificationSamples):
    """``data_root`` + ``data_prefix`` is the image folder; with ``ann_file`` (relative to
    ``data_root``) the samples come from that file list, otherwise from the class folders.
    ``transform`` holds the keyword arguments of ``timm.data.create_transform``; ``decoder``
    is 'pil' or 'cv2' (see the module's docstring)."""

    def __init__(self, data_root, data_prefix='', ann_file=None, classes=None, transform=None,
                 test_mode=False, decoder='pil'):
        self.set_reading(transform, test_mode, decoder)
        self.image_root = os.path.join(data_root, data_prefix)
        if not os.path.isdir(self.image_root):
            raise FileNotFoundError(f'image folder not found: {self.image_root}')
        if ann_file is not None:
            ann_path = os.path.join(data_root, ann_file)
            if not os.path.isfile(ann_path):
                raise FileNotFoundError(f'file list not found: {ann_path}')
            self.samples = read_file_list(ann_path, self.image_root)
            self.classes = list(classes) if classes is not None else None
        else:
            self.samples, self.classes = scan_class_folders(self.image_root)
            if classes is not None and list(classes) != self.classes:
                raise ValueError(f'classes given in the config {list(classes)} differ from the '
                                 f'class folders of {self.image_root}: {self.classes}')
        if self.classes is not None:
            too_big = [(p, y) for p, y in self.samples if y >= len(self.classes)]
            if too_big:
                raise ValueError(f'label {too_big[0][1]} of {too_big[0][0]} is out of range for '
                                 f'{len(self.classes)} classes')

    def __getitem__(self, index):
        path, label = self.samples[index]
        image = read_image_file(path, self.decoder)
        return dict(inputs=self.transform(image), data_samples=label)
