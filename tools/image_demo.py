"""Runs a detection or segmentation config's model on one image and saves the picture (boxes
and masks drawn by mmdet's visualizer, or mmseg's colour overlay):

    python tools/image_demo.py IMAGE CONFIG CHECKPOINT [--out-file F] [--device cpu|cuda]
                               [--score-thr 0.3]

The task is the config's ``default_scope``. The image is decoded as the Predictor does
(internimage.models.images: turned by its EXIF orientation; 16-bit, 32-bit and float images
scaled to 8 bits); a strip such as 10000x10 is padded to a shape the model takes."""
import argparse
import inspect

from internimage.engine import load_config, task_of
from internimage.engine.launch import exits_on_usage_error, require_checkpoint
from internimage.models.images import read_rgb_file


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


def read_image_or_exit(path):
    """The image file as an RGB array, decoded before anything is built; a missing, damaged or
    unsupported file stops the tool with its name and the problem."""
    try:
        return read_rgb_file(path)
    except (OSError, ValueError, TypeError) as error:
        raise SystemExit(f'image_demo: {error}') from error


@exits_on_usage_error
def main(argv=None):
    args = parse_args(argv)
    image = read_image_or_exit(args.image)
    require_checkpoint(args.checkpoint)
    cfg = load_config(args.config)
    demo = task_of(cfg).image_demo_module()
    takes_score = 'score_thr' in inspect.signature(demo.run_image_demo).parameters
    options = dict(score_thr=args.score_thr) if takes_score else {}
    demo.run_image_demo(cfg, args.checkpoint, image, args.out_file, device=args.device,
                        **options)
    print(f'saved {args.out_file}')


if __name__ == '__main__':
    main()
