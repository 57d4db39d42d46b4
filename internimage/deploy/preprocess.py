"""The test-time preprocessing of a det/seg config as a module that traces into ONNX: the
pipeline's resizes (mmcv's rules for the output size), the data preprocessor's channel order,
normalisation and padding. The exported graph then takes the image as it was loaded (N, 3, H, W,
0-255, the pipeline's channel order) and its outputs refer to that image.

The resize is bilinear on floats rounded to integers, where mmcv resizes the uint8 image with
OpenCV's fixed-point arithmetic: pixels may differ by one grey level (none when the image already
has the test size). Everything else is the same arithmetic as mmdet's and mmseg's."""
import dataclasses
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

# Pipeline steps that do not touch the image the network sees.
IGNORED_STEPS = frozenset({'LoadImageFromFile', 'LoadImageFromNDArray', 'LoadAnnotations',
                           'PackDetInputs', 'PackSegInputs'})


@dataclasses.dataclass(frozen=True)
class Resize:
    """mmcv's Resize: ``scale`` (w, h) or, with keep_ratio, the long and short edge limits."""
    scale: Tuple[int, int]
    keep_ratio: bool

    def output_size(self, size):
        """(h, w) float tensor -> the resized (h, w), as mmcv.rescale_size / imresize."""
        if not self.keep_ratio:
            return size.new_tensor([self.scale[1], self.scale[0]])
        long_edge, short_edge = max(self.scale), min(self.scale)
        factor = torch.minimum(long_edge / size.max(), short_edge / size.min())
        return torch.floor(size * factor + 0.5)


@dataclasses.dataclass(frozen=True)
class ResizeToMultiple:
    """mmseg's ResizeToMultiple: each side up to the next multiple of ``size_divisor``."""
    size_divisor: int

    def output_size(self, size):
        return torch.ceil(size / self.size_divisor) * self.size_divisor


def resize_steps(pipeline):
    """The resizes of a test pipeline, in order; a step this module cannot write is refused."""
    steps = []
    for step in pipeline:
        kind = step['type'].split('.')[-1]  # without a registry scope
        if kind in IGNORED_STEPS:
            continue
        if kind == 'Resize' and step.get('scale') is not None and not step.get('scale_factor'):
            scale = step['scale']
            scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
            steps.append(Resize(scale, bool(step.get('keep_ratio', False))))
        elif kind == 'ResizeToMultiple' and step.get('interpolation') in (None, 'bilinear'):
            steps.append(ResizeToMultiple(int(step.get('size_divisor', 32))))
        else:
            raise ValueError(f'the test pipeline step {dict(step)} cannot be exported (known: '
                             f'{sorted(IGNORED_STEPS)}, Resize with scale, ResizeToMultiple)')
    return steps


class ImagePreprocess(nn.Module):
    """Loaded images -> the network's input and the resized size (h, w) before padding."""

    def __init__(self, steps, mean, std, bgr_to_rgb, size_divisor: Optional[int] = None):
        super().__init__()
        self.steps = list(steps)
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.size_divisor = size_divisor
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
                             persistent=False)

    @classmethod
    def from_config(cls, cfg, size_divisor_key):
        preprocessor = cfg.model.data_preprocessor
        if preprocessor.get('test_cfg'):
            raise ValueError('data_preprocessor.test_cfg (test-time padding) cannot be exported: '
                             f'{preprocessor.test_cfg}')
        dataset = cfg.test_dataloader.dataset
        pipeline = dataset.get('pipeline') or dataset.get('dataset', {}).get('pipeline', [])
        return cls(resize_steps(pipeline), preprocessor.mean, preprocessor.std,
                   preprocessor.get('bgr_to_rgb', False),
                   preprocessor.get(size_divisor_key) if size_divisor_key else None)

    def forward(self, images):
        size = torch._shape_as_tensor(images)[2:].float()
        for step in self.steps:
            new_size = step.output_size(size)
            # The tracer keeps the size's arithmetic in the graph (ONNX Resize with sizes).
            images = F.interpolate(images, size=(new_size[0].long(), new_size[1].long()),
                                   mode='bilinear', align_corners=False)
            images = images.round().clamp(0, 255)  # mmcv returns the uint8 image
            size = new_size
        if self.bgr_to_rgb:
            images = images.flip(1)
        images = (images - self.mean) / self.std
        if self.size_divisor:
            height, width = images.shape[2:]
            pad_h = (self.size_divisor - height % self.size_divisor) % self.size_divisor
            pad_w = (self.size_divisor - width % self.size_divisor) % self.size_divisor
            images = F.pad(images, (0, pad_w, 0, pad_h))
        return images, size
