"""Rewrites a published InternImage checkpoint (classification, detection or segmentation
layout) as one mmdet/mmseg's ``load_from`` accepts.

    python tools/convert_checkpoint.py SRC DST [--to backbone|classifier] [--use-ema]
                                               [--class-indices map22kto1k.txt]
"""
import argparse
import os

import torch

from classification.models import (extract_state_dict, map_22k_to_1k, mm_checkpoint,
                                   read_checkpoint)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='published checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument('--to', choices=('backbone', 'classifier'), default='backbone',
                        help="'backbone': keys under backbone. for detectors/segmentors; "
                             "'classifier': the whole classifier, head included, under classifier. "
                             'for the classification configs')
    parser.add_argument('--use-ema', action='store_true',
                        help="take the 'model_ema' weights of a classification checkpoint")
    parser.add_argument('--class-indices',
                        help='file of head rows to keep, one per line (22k -> 1k mapping)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    state_dict = extract_state_dict(read_checkpoint(args.src), use_ema=args.use_ema)
    if args.class_indices:
        state_dict = map_22k_to_1k(state_dict, args.class_indices)
    checkpoint = mm_checkpoint(state_dict, args.to)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(checkpoint, args.dst)
    print(f"wrote {len(checkpoint['state_dict'])} tensors to {args.dst} ({args.to})")


if __name__ == '__main__':
    main()
