"""Writes the embedded demo data sets (rendered shapes; deterministic for a seed, kept when
already complete):

    python tools/generate_demo_data.py [--task classification|detection|segmentation|all]
                                       [--out DIR] [--seed N]

classification: ImageNet folder layout in data/demo/shapes_cls; detection: COCO instances in
data/demo/coco_shapes; segmentation: ADE20K layout in data/demo/ade_shapes."""
import argparse

from internimage.engine.progress import progress_bar
from internimage.engine.tasks import TASKS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--task', choices=[*TASKS, 'all'], default='all')
    parser.add_argument('--out', help='output folder (only with a single --task)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.out and args.task == 'all':
        parser.error('--out needs a single --task')
    return args


def main(argv=None):
    args = parse_args(argv)
    tasks = list(TASKS.values()) if args.task == 'all' else [TASKS[args.task]]
    for task in tasks:
        out_dir = args.out or task.demo_data_dir
        print(f'[data] {task.name}: {out_dir}', flush=True)
        task.generate_demo_data(out_dir, seed=args.seed, progress=progress_bar)
        print(flush=True)


if __name__ == '__main__':
    main()
