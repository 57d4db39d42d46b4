"""Runs a detection or segmentation config's model on one image and saves the picture (boxes
and masks drawn by mmdet's visualizer, or mmseg's colour overlay):

    python tools/image_demo.py IMAGE CONFIG CHECKPOINT [--out-file F] [--device cpu|cuda]
                               [--score-thr 0.3]

The task is the config's ``default_scope``."""
import argparse
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmengine.config import Config  # noqa: E402

# default_scope -> module with run_image_demo(config, checkpoint, image, out_file, device, ...)
DEMOS = {'mmdet': 'detection.visualize', 'mmseg': 'segmentation.visualize'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('image')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-file', default='demo_result.png')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: lowest score of a drawn box')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for label, path in (('image', args.image), ('config', args.config),
                        ('checkpoint', args.checkpoint)):
        if not os.path.isfile(path):
            raise SystemExit(f'{label} not found: {path}')
    scope = Config.fromfile(args.config).get('default_scope')
    if scope not in DEMOS:
        raise SystemExit(f"image_demo works for detection (default_scope 'mmdet') and "
                         f"segmentation ('mmseg') configs; {args.config} has {scope!r}")
    options = dict(score_thr=args.score_thr) if scope == 'mmdet' else {}
    demo = importlib.import_module(DEMOS[scope])
    demo.run_image_demo(args.config, args.checkpoint, args.image, args.out_file,
                        device=args.device, **options)
    print(f'saved {args.out_file}')


if __name__ == '__main__':
    main()
