"""Images for inference as the 8-bit RGB arrays the models are trained on, by one rule for the
Predictor and every task's image demo (PIL and numpy only):

- 8-bit images as they are; grey, palette, RGBA or CMYK ones converted to RGB as PIL does;
- other integer images scaled by the range of their sample type: 16-bit values by 65535,
  32-bit by 2**31 - 1 (PIL's 32-bit mode is signed); negative values are refused;
- float images must lie in [0, 1] (scaled by 255);
- empty images, NaN, 64-bit integers, other types and unreadable or truncated files are refused
  with an error that names the image;
- files are turned by their EXIF orientation (a phone photo stands upright), as OpenCV turns
  them for the data-set loaders (mmcv.imread); PIL images and arrays are taken as they are.

PIL's own conversion would clip a 16- or 32-bit image to white and round a float one to 0 or 1:
the model would classify a blank picture without a warning."""
import os

import numpy as np
from PIL import Image, ImageOps

# PIL modes with more than 8 bits per sample: their arrays go through to_uint8.
WIDE_MODES = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I', 'F')
# The most elongated image the image demos give a detector or segmentor: a keep-ratio resize to
# a config's (long, short) scale rounds the short side of a longer strip, such as 10000x10, to
# 0 pixels. The configs' test scales have long <= 8 * short (Pascal Context's 4096x520 the most).
MAX_ASPECT_RATIO = 16


def to_uint8(array, name='image'):
    """The uint8 array of an image array of any supported sample type (the rule above)."""
    if array.size == 0:
        raise ValueError(f'{name} is empty (shape {array.shape})')
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind in 'ui' and array.dtype.itemsize <= 4:
        lowest = array.min()
        if lowest < 0:
            raise ValueError(f'{name}: {array.dtype} image with negative values (down to '
                             f'{lowest}); integer images are scaled from 0 to their type\'s '
                             'maximum')
        scale = 255 / np.iinfo(array.dtype).max
    elif array.dtype.kind == 'f':
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise ValueError(f'{name}: float images must lie in [0, 1], got values in '
                             f'[{np.nanmin(array)}, {np.nanmax(array)}] (NaN or inf: '
                             f'{not np.isfinite(array).all()})')
        scale = 255
    else:
        raise TypeError(f'{name}: {array.dtype} images are not supported (8-, 16- or 32-bit '
                        'integers, floats in [0, 1])')
    return np.rint(array.astype(np.float64) * scale).astype(np.uint8)


def rgb_from_array(array, name='image array'):
    """(H, W, 3) uint8 RGB of an (H, W) grey or (H, W, 3) RGB array."""
    if array.ndim not in (2, 3) or array.shape[2:] not in ((), (3,)):
        raise ValueError(f'{name} must be (H, W, 3) RGB or (H, W) grey, got shape '
                         f'{array.shape}')
    array = to_uint8(array, name)
    return np.repeat(array[..., None], 3, axis=2) if array.ndim == 2 else array


def rgb_from_pil(image, name='PIL image'):
    """(H, W, 3) uint8 RGB of a PIL image of any mode."""
    if image.mode in WIDE_MODES:
        return rgb_from_array(np.asarray(image), name)
    if 0 in image.size:
        raise ValueError(f'{name} is empty ({image.size[0]}x{image.size[1]})')
    return np.asarray(image.convert('RGB'))


def load_upright(path):
    """The decoded PIL image of file ``path`` turned by its EXIF orientation tag, as OpenCV's
    colour decoding turns it (mmcv.imread in the detection and segmentation data sets, the
    classification data sets' 'cv2' decoder): every reader of a file sees the same picture."""
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image)  # a loaded copy, turned or not


def read_rgb_file(path):
    """(H, W, 3) uint8 RGB of the image file ``path``, fully decoded here so that a damaged
    file is reported with its name."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    try:
        image = load_upright(path)
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise OSError(f'cannot read image {path}: {error}') from error
    return rgb_from_pil(image, str(path))


def pad_to_aspect_ratio(rgb, max_ratio=MAX_ASPECT_RATIO):
    """``rgb`` (H, W, 3) with black rows below or columns to the right, so that neither side is
    more than ``max_ratio`` times the other; ``rgb`` itself when neither is. A keep-ratio resize
    to a (long, short) scale with long <= max_ratio * short scales a strip by its long side,
    padded or not: the model sees the strip's pixels as it would, on a short side it can take."""
    height, width = rgb.shape[:2]
    padded_height = max(height, -(-width // max_ratio))
    padded_width = max(width, -(-height // max_ratio))
    if (padded_height, padded_width) == (height, width):
        return rgb
    padded = np.zeros((padded_height, padded_width) + rgb.shape[2:], rgb.dtype)
    padded[:height, :width] = rgb
    return padded


def read_rgb(image):
    """(H, W, 3) uint8 RGB of a file path, a PIL image or a numpy array."""
    if isinstance(image, (str, os.PathLike)):
        return read_rgb_file(image)
    if isinstance(image, np.ndarray):
        return rgb_from_array(image)
    if isinstance(image, Image.Image):
        return rgb_from_pil(image)
    raise TypeError(f'expected an image file path, a PIL image or a numpy array, got '
                    f'{type(image).__name__}')
