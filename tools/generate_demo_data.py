"""Writes the embedded demo data sets (rendered shapes; deterministic for a seed, kept when
already complete):

    python tools/generate_demo_data.py [--task classification|detection|segmentation|all]
                                       [--out DIR] [--seed N]

classification: ImageNet folder layout in data/demo/shapes_cls; detection: COCO instances in
data/demo/coco_shapes; segmentation: ADE20K layout in data/demo/ade_shapes."""
import argparse
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# task: (module with generate(out_dir, seed=...), default output folder)
GENERATORS = {
    'classification': ('classification.demo_data', 'data/demo/shapes_cls'),
    'detection': ('detection.demo_data', 'data/demo/coco_shapes'),
    'segmentation': ('segmentation.demo_data', 'data/demo/ade_shapes'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--task', choices=[*GENERATORS, 'all'], default='all')
    parser.add_argument('--out', help='output folder (only with a single --task)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.out and args.task == 'all':
        parser.error('--out needs a single --task')
    return args


def main(argv=None):
    args = parse_args(argv)
    tasks = list(GENERATORS) if args.task == 'all' else [args.task]
    for task in tasks:
        module, default_out = GENERATORS[task]
        out_dir = args.out or default_out
        print(f'[data] {task}: {out_dir}', flush=True)
        importlib.import_module(module).generate(out_dir, seed=args.seed)


if __name__ == '__main__':
    main()
