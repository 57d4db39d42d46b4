"""Runs a whole model exported by tools/export.py on one image with ONNX Runtime (no
torch, mmdet or mmseg; the file's metadata names the task and classes), prints the results and
saves a picture (boxes and masks, or the label map over the image):

    python tools/onnx_demo.py MODEL.onnx IMAGE [--out-file F] [--score-thr 0.3]

The image is read with OpenCV (BGR, the channel order of our configs' pipelines)."""
import argparse
import os

import cv2
import numpy as np

from internimage.deploy.runtime import ExportedModel  # numpy, onnx and onnxruntime only


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('model', help='.onnx file written by tools/export.py')
    parser.add_argument('image')
    parser.add_argument('--out-file', default='onnx_demo_result.png')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: lowest score of a printed and drawn detection')
    return parser.parse_args(argv)


def palette(count):
    """``count`` distinct BGR colours, the same for every run."""
    hues = (np.arange(count) * 180 / max(count, 1)).astype(np.uint8)
    hsv = np.stack([hues, np.full(count, 200, np.uint8), np.full(count, 230, np.uint8)], 1)
    return cv2.cvtColor(hsv[None], cv2.COLOR_HSV2BGR)[0].astype(int)


def draw_detections(image, result, classes, score_thr):
    picture, colours = image.copy(), palette(len(classes))
    keep = result['scores'] >= score_thr
    for index in np.flatnonzero(keep):
        colour = tuple(int(c) for c in colours[result['labels'][index]])
        if 'masks' in result:
            mask = result['masks'][index]
            picture[mask] = (0.5 * picture[mask] + 0.5 * np.array(colour)).astype(np.uint8)
        x1, y1, x2, y2 = (int(round(v)) for v in result['boxes'][index])
        cv2.rectangle(picture, (x1, y1), (x2, y2), colour, 1)
        cv2.putText(picture, f'{classes[result["labels"][index]]} {result["scores"][index]:.2f}',
                    (x1, max(y1 - 2, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1)
    lines = [f'{classes[label]} {score:.3f} box {[round(float(v), 1) for v in box]}'
             for box, score, label in zip(result['boxes'][keep], result['scores'][keep],
                                          result['labels'][keep])]
    return picture, lines


def draw_label_map(image, result, classes):
    label_map = result['label_map']
    colours = palette(len(classes))
    overlay = colours[np.clip(label_map, 0, len(classes) - 1)].astype(np.uint8)
    picture = (0.5 * image + 0.5 * overlay).astype(np.uint8)
    labels, counts = np.unique(label_map, return_counts=True)
    lines = [f'{classes[label]}: {count / label_map.size:.1%} of the pixels'
             for label, count in zip(labels, counts)]
    return picture, lines


def main(argv=None):
    args = parse_args(argv)
    for path in (args.model, args.image):
        if not os.path.isfile(path):
            raise SystemExit(f'onnx_demo: file not found: {path}')
    image = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f'onnx_demo: {args.image} is not an image OpenCV can read')
    try:
        model = ExportedModel(args.model)
    except ValueError as error:
        raise SystemExit(f'onnx_demo: {error}')
    result = model(image)
    if model.task == 'segmentation':
        picture, lines = draw_label_map(image, result, model.classes)
    else:
        picture, lines = draw_detections(image, result, model.classes, args.score_thr)
    print('\n'.join(lines) or f'no detection scores {args.score_thr} or more')
    cv2.imwrite(args.out_file, picture)
    print(f'saved {args.out_file}')


if __name__ == '__main__':
    main()
