"""Image classification and feature maps without configs: a named variant with its weights and
the test-time preprocessing of its released checkpoint's evaluation (the variant record's
``PRETRAINED``: timm's resize, centre crop, interpolation and mean/std, as the datasets' test
transform)::

    from classification import Predictor
    predictor = Predictor.from_variant('internimage_t', checkpoint='internimage_t_1k_224.pth')
    predictor.topk('cat.jpg', k=5)       # [[(class index, probability), ...]] per image
    predictor.feature_maps('cat.jpg')    # NCHW maps of the four levels (strides 4..32)
"""

import torch
from PIL import Image
from timm.data import create_transform

from internimage.models import create_classifier, load_checkpoint, pretrained_cfg
from internimage.models.images import read_rgb
from internimage.models.variants import IMAGENET_MEAN, IMAGENET_STD


def read_image(image):
    """An RGB PIL image from a file path, a PIL image or a numpy array (H, W, 3) RGB or (H, W)
    grey, 8 bits or wider by the rule of ``internimage.models.images``."""
    return Image.fromarray(read_rgb(image))


class Predictor:
    """An InternImage classifier in eval mode with its test-time preprocessing. ``images`` in
    every method: one image or a list of them (paths, PIL images or arrays)."""

    def __init__(self, classifier, image_size=224, crop_pct=0.875, interpolation='bicubic',
                 mean=IMAGENET_MEAN, std=IMAGENET_STD, device='cpu'):
        self.device = torch.device(device)
        self.classifier = classifier.to(self.device).eval()
        self.transform = create_transform(input_size=image_size, crop_pct=crop_pct,
                                          interpolation=interpolation, mean=mean, std=std)

    @classmethod
    def from_variant(cls, name, checkpoint=None, use_ema=False, device='cpu', image_size=None,
                     crop_pct=None, **overrides):
        """Variant ``name`` ('internimage_t', its alias 't', or a released checkpoint's tag such
        as 'internimage_h.in22k_ft_in1k_384'; options overridden by ``overrides``) with the
        weights of ``checkpoint`` (ours or a published layout; every weight must fit), evaluated
        with the preprocessing of the variant's released checkpoint (``PRETRAINED``) unless
        ``image_size`` and ``crop_pct`` say otherwise (a model trained at another size)."""
        if image_size is not None and crop_pct is not None:
            released = None
        else:
            released = pretrained_cfg(name)  # before any weights are read: a bad name fails fast
        classifier = create_classifier(name.partition('.')[0], **overrides)
        if checkpoint is not None:
            load_checkpoint(classifier, checkpoint, strict=True, use_ema=use_ema)
        if released is None:
            return cls(classifier, image_size, crop_pct, device=device)
        return cls(classifier, image_size or released.input_size, crop_pct or released.crop_pct,
                   released.interpolation, released.mean, released.std, device=device)

    def preprocess(self, images):
        """(N, 3, S, S) float batch of the images, resized, centre-cropped and normalised."""
        images = images if isinstance(images, (list, tuple)) else [images]
        if not images:
            raise ValueError('no images given (an empty list)')
        return torch.stack([self.transform(read_image(image)) for image in images])

    @torch.inference_mode()
    def topk(self, images, k=5):
        """Per image, the ``k`` most probable classes as (class index, probability), most
        probable first."""
        num_classes = getattr(self.classifier.head, 'out_features', 0)
        if not 1 <= k <= num_classes:
            raise ValueError(f'k must be in [1, {num_classes}] (the number of classes), got {k}')
        logits = self.classifier(self.preprocess(images).to(self.device))
        probabilities, indices = logits.float().softmax(-1).topk(k)
        return [list(zip(i.tolist(), p.tolist())) for i, p in zip(indices, probabilities)]

    @torch.inference_mode()
    def feature_maps(self, images):
        """The (N, C_i, H_i, W_i) feature maps of the levels, before their downsampling."""
        levels = self.classifier.forward_levels(self.preprocess(images).to(self.device))
        return [level.permute(0, 3, 1, 2).contiguous() for level in levels]
