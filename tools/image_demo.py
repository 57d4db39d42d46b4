"""Runs a detection or segmentation config's model on one image and saves the picture (boxes
and masks drawn by mmdet's visualizer, or mmseg's colour overlay):

    python tools/image_demo.py IMAGE CONFIG CHECKPOINT [--out-file F] [--device cpu|cuda]
                               [--score-thr 0.3]

The task is the config's ``default_scope``."""
import argparse
import inspect
import os

from classification.engine import load_config, task_of


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
    for label, path in (('image', args.image), ('checkpoint', args.checkpoint)):
        if not os.path.isfile(path):
            raise SystemExit(f'{label} not found: {path}')
    cfg = load_config(args.config)
    demo = task_of(cfg).image_demo_module()
    takes_score = 'score_thr' in inspect.signature(demo.run_image_demo).parameters
    options = dict(score_thr=args.score_thr) if takes_score else {}
    demo.run_image_demo(cfg, args.checkpoint, args.image, args.out_file, device=args.device,
                        **options)
    print(f'saved {args.out_file}')


if __name__ == '__main__':
    main()
