"""Converts a released InternImage checkpoint into one of our models.

    python tools/convert_checkpoint.py SRC DST --config CONFIG [--cfg-options KEY=VALUE ...]
                                               [--use-ema] [--class-indices map22kto1k.txt]
    python tools/convert_checkpoint.py SRC DST [--to backbone|classifier] [--use-ema]
                                               [--class-indices map22kto1k.txt]

With ``--config`` the whole released model (classification, detection or segmentation, in the
published layouts: internimage/models/conversion.py, detection/ and segmentation/
checkpoint_layouts.py) becomes a checkpoint of the config's model: every source tensor is
placed or dropped with a printed reason, shapes are checked against the model built on the meta
device, and an entry that does not fit is an error naming it (nothing is written). Without
``--config`` only the network is kept, as pretrained weights for ``load_from``/``init_cfg``.
"""
import argparse
import os

import torch

from internimage.engine.launch import (add_config_options, exits_on_usage_error,
                                       read_tool_checkpoint)
from internimage.engine.config import load_config
from internimage.engine.released import convert_released
from internimage.models import extract_state_dict, map_22k_to_1k, mm_checkpoint
from internimage.models.checkpoint import released_state_dict
from internimage.models.conversion import ConversionError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='published checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument('--config', help='convert the whole released model into this '
                        "config's model")
    add_config_options(parser)
    parser.add_argument('--to', choices=('backbone', 'classifier'), default='backbone',
                        help="without --config: 'backbone': keys under backbone. for "
                             "detectors/segmentors; 'classifier': the whole classifier, head "
                             'included, under classifier. for the classification configs')
    parser.add_argument('--use-ema', action='store_true',
                        help="take the 'model_ema' weights of a classification checkpoint")
    parser.add_argument('--class-indices',
                        help='file of head rows to keep, one per line (22k -> 1k mapping)')
    return parser.parse_args(argv)


def network_checkpoint(args, checkpoint):
    """The network alone, under ``backbone.`` or ``classifier.`` (no config needed)."""
    state_dict = extract_state_dict(checkpoint, use_ema=args.use_ema)
    if args.class_indices:
        state_dict = map_22k_to_1k(state_dict, args.class_indices)
    return mm_checkpoint(state_dict, args.to), args.to


def model_checkpoint(args, checkpoint):
    """The whole released model converted for ``--config``; prints what was dropped."""
    cfg = load_config(args.config, args.cfg_options)
    use_ema = args.use_ema
    if args.class_indices:  # the mapped network stands in for the release
        network = released_state_dict(checkpoint, use_ema)
        checkpoint, use_ema = {'model': map_22k_to_1k(network, args.class_indices)}, False
    try:
        state_dict, plan = convert_released(cfg, checkpoint, use_ema=use_ema)
    except ConversionError as error:
        raise SystemExit(f'{args.src}: nothing written: {error}') from None
    print(plan.describe())
    return {'state_dict': state_dict, 'meta': {'converted_from': os.path.basename(args.src),
                                                'layout': plan.layout.name}}, args.config


@exits_on_usage_error
def main(argv=None):
    args = parse_args(argv)
    if os.path.isfile(args.src):  # a missing file is refused by the reading below
        print(f'[convert] reading {args.src} ({os.path.getsize(args.src) / 2**20:.0f} MiB)',
              flush=True)
    checkpoint = read_tool_checkpoint(args.src)
    if args.config:
        converted, target = model_checkpoint(args, checkpoint)
    else:
        converted, target = network_checkpoint(args, checkpoint)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    print(f'[convert] writing {args.dst}', flush=True)
    torch.save(converted, args.dst)
    print(f"wrote {len(converted['state_dict'])} tensors to {args.dst} ({target})")


if __name__ == '__main__':
    main()
