"""Rendered scenes of coloured shapes on textured backgrounds: the embedded demo data of all three
tasks (classification, detection, segmentation) is drawn with these functions, so the data sets
are generated deterministically from a seed instead of being shipped or downloaded.

Every shape is a polygon, so the same object gives a class label, a box, a COCO polygon and a
pixel mask without any approximation between them."""
import cv2
import numpy as np

SHAPE_KINDS = ('circle', 'square', 'triangle', 'star', 'hexagon', 'cross')

_CIRCLE_VERTICES = 32


def shape_polygon(kind, center, radius, angle=0.0):
    """Vertices (K, 2) in (x, y) pixels of shape ``kind`` inscribed in the circle of ``radius``
    around ``center``, rotated by ``angle`` radians."""
    if kind == 'circle':
        angles = np.linspace(0, 2 * np.pi, _CIRCLE_VERTICES, endpoint=False)
        radii = np.ones_like(angles)
    elif kind in ('square', 'triangle', 'hexagon'):
        sides = {'square': 4, 'triangle': 3, 'hexagon': 6}[kind]
        angles = np.linspace(0, 2 * np.pi, sides, endpoint=False)
        radii = np.ones_like(angles)
    elif kind == 'star':
        angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
        radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
    elif kind == 'cross':
        # A plus sign: 12 vertices, arm half-width 0.35 of the radius.
        w = 0.35
        xy = np.array([(w, 1), (w, w), (1, w), (1, -w), (w, -w), (w, -1), (-w, -1), (-w, -w),
                       (-1, -w), (-1, w), (-w, w), (-w, 1)])
        angles = np.arctan2(xy[:, 1], xy[:, 0])
        radii = np.hypot(xy[:, 0], xy[:, 1]) / np.sqrt(1 + w * w)
    else:
        raise ValueError(f"unknown shape kind '{kind}' (known: {SHAPE_KINDS})")
    angles = angles + angle
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1) * radii[:, None] * radius
    return (points + np.asarray(center, dtype=np.float64)).astype(np.float32)


def textured_background(rng, height, width):
    """A smooth random colour field plus fine noise: enough texture that shapes must be
    recognised by their outline, not by a flat background."""
    coarse = rng.integers(40, 216, size=(4, 4, 3)).astype(np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    image += rng.integers(-20, 21, size=(height, width, 3), dtype=np.int16)
    return np.clip(image, 0, 255).astype(np.uint8)


def random_colour(rng):
    """A saturated colour (one channel high, one low), so shapes stand out from the background."""
    colour = rng.integers(0, 256, size=3)
    high, low = rng.permutation(3)[:2]
    colour[high] = rng.integers(200, 256)
    colour[low] = rng.integers(0, 60)
    return tuple(int(c) for c in colour)


def fill_polygon(image, polygon, value):
    """Fills ``polygon`` (K, 2 float) into ``image`` in place with anti-aliasing off, so the
    drawn pixels are exactly the pixels of the mask drawn with the same call."""
    cv2.fillPoly(image, [np.round(polygon).astype(np.int32)], value, lineType=cv2.LINE_8)
    return image


def place_shapes(rng, height, width, count, num_kinds, min_radius, max_radius, margin=2,
                 max_tries=200):
    """Up to ``count`` non-overlapping (label, polygon) pairs inside the image: shapes whose
    bounding circles would touch are retried, so boxes and masks never hide one another."""
    placed = []
    for _ in range(count):
        for _ in range(max_tries):
            radius = rng.uniform(min_radius, max_radius)
            cx = rng.uniform(radius + margin, width - radius - margin)
            cy = rng.uniform(radius + margin, height - radius - margin)
            if all(np.hypot(cx - x, cy - y) > radius + r + margin for x, y, r, _ in placed):
                placed.append((cx, cy, radius, int(rng.integers(num_kinds))))
                break
    return [(label, shape_polygon(SHAPE_KINDS[label], (cx, cy), radius,
                                  rng.uniform(0, 2 * np.pi)))
            for cx, cy, radius, label in placed]


def render_scene(rng, height, width, count, num_kinds=len(SHAPE_KINDS), min_radius=None,
                 max_radius=None):
    """An image (H, W, 3 uint8, RGB) with up to ``count`` shapes of the first ``num_kinds``
    kinds, and the list of their (label, polygon) pairs in drawing order."""
    if not 1 <= num_kinds <= len(SHAPE_KINDS):
        raise ValueError(f'num_kinds must be in [1, {len(SHAPE_KINDS)}], got {num_kinds}')
    short = min(height, width)
    min_radius = short * 0.08 if min_radius is None else min_radius
    max_radius = short * 0.22 if max_radius is None else max_radius
    image = textured_background(rng, height, width)
    objects = place_shapes(rng, height, width, count, num_kinds, min_radius, max_radius)
    for _, polygon in objects:
        fill_polygon(image, polygon, random_colour(rng))
    return image, objects
