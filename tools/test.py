"""Evaluates a checkpoint with any of the project's configs:

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--tta]
                         [--throughput [BATCHES]] [--cfg-options KEY=VALUE ...]
                         [--launcher none|pytorch|slurm]

Metrics come from the config's test_evaluator (top-1/5, COCO mAP, mIoU); ``--show-dir`` turns on
the config's visualization hook and saves the pictures there; ``--tta`` runs the config's
multi-scale + flip test (its ``tta_pipeline`` and ``tta_model``); ``--throughput`` times the model's
inference on the test data instead of evaluating. The metrics are also written to
``<work dir>/test_metrics.json``."""
import argparse
import importlib
import inspect
import json
import os
import time

import torch
from mmengine.dist import is_main_process
from classification.engine.launch import (add_common_arguments, build_runner, launcher_config,
                                          process_group_closed_on_exit)
from classification.models.weights_only import load_weights_only

THROUGHPUT_WARMUP = 3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (mmengine layout; convert published '
                        'ones with tools/convert_checkpoint.py)')
    parser.add_argument('--show-dir', help='save pictures of the predictions here')
    parser.add_argument('--tta', action='store_true',
                        help="multi-scale + flip test with the config's tta_pipeline/tta_model")
    parser.add_argument('--throughput', type=int, nargs='?', const=20, metavar='BATCHES',
                        help='measure images/s over BATCHES test batches (default 20)')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def enable_pictures(cfg, show_dir):
    """Switches the visualization hook on for every test batch: hooks with ``test_out_dir``
    (mmdet's, ours) write there; mmseg's hook draws through the visualizer, whose save_dir is
    set instead."""
    hook_cfg = cfg.get('default_hooks', {}).get('visualization')
    if hook_cfg is None:
        raise SystemExit('--show-dir: the config has no default_hooks.visualization')
    hook_cfg.draw = True
    scope = cfg.get('default_scope')
    # the task's own registry imports its hooks on lookup (mmengine's root one would not)
    registry = importlib.import_module(f'{scope}.registry' if scope else 'mmengine.registry')
    hook_class = registry.HOOKS.get(hook_cfg.type)
    if hook_class is None:
        raise SystemExit(f"--show-dir: unknown visualization hook '{hook_cfg.type}'")
    show_dir = os.path.abspath(show_dir)
    parameters = inspect.signature(hook_class).parameters
    if 'interval' in parameters:  # mmseg's hook draws every 50th batch by default
        hook_cfg.interval = 1
    if 'test_out_dir' in parameters:
        hook_cfg.test_out_dir = show_dir
    else:
        cfg.visualizer.save_dir = show_dir


def enable_tta(cfg):
    """The test-time augmentation of mmdet/mmseg: the tta pipeline on the test data and the
    task's TTA model (merging the augmented predictions) around the model."""
    missing = [key for key in ('tta_pipeline', 'tta_model') if key not in cfg]
    if missing:
        raise SystemExit(f'--tta: the config has no {" and no ".join(missing)}')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.model = dict(cfg.tta_model, module=cfg.model)


def check_checkpoint_layout(path):
    """mmengine takes a checkpoint without 'state_dict' for a bare state dict, so a published
    classification release ({'model': ..., 'model_ema': ...}) would load no weights at all and
    evaluate a random model. Memory-mapped: the check costs no copy of a large checkpoint."""
    try:
        checkpoint = load_weights_only(path, mmap=True)
    except RuntimeError:  # the legacy (non-zip) format cannot be memory-mapped
        checkpoint = load_weights_only(path)
    if isinstance(checkpoint, dict) and 'state_dict' not in checkpoint and 'model' in checkpoint:
        raise SystemExit(f"{path} is a published classification checkpoint ('model' entry); "
                         'convert it first: python tools/convert_checkpoint.py SRC DST '
                         '--to classifier (or --to backbone for a detector/segmentor)')


def measure_throughput(runner, num_batches):
    """Images per second of the model's test step (data loading excluded), after warm-up."""
    model = runner.model
    model.eval()
    images, elapsed = 0, 0.0
    with torch.no_grad():
        for i, batch in enumerate(runner.test_dataloader):
            if i >= num_batches + THROUGHPUT_WARMUP:
                break
            start = time.perf_counter()
            outputs = model.test_step(batch)
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            if i >= THROUGHPUT_WARMUP:
                elapsed += time.perf_counter() - start
                images += len(outputs)
    if images == 0:
        raise SystemExit(f'--throughput: the test data has fewer than {THROUGHPUT_WARMUP + 1} '
                         'batches')
    print(f'throughput: {images / elapsed:.1f} images/s ({images} images, '
          f'batch {runner.test_dataloader.batch_size}, {torch.get_num_threads()} threads)')


def plain_number(value):
    """JSON for the numpy scalars that mmseg's and mmdet's metrics return."""
    if hasattr(value, 'item'):
        return value.item()
    raise TypeError(f'{type(value).__name__} in the metrics is not JSON serializable')


def run_test(runner, args, cfg):
    """Throughput measurement or evaluation; the main process writes the metrics file."""
    if args.throughput:
        runner.load_or_resume()
        measure_throughput(runner, args.throughput)
        return
    metrics = runner.test()
    if not is_main_process():
        return
    path = os.path.join(cfg.work_dir, 'test_metrics.json')
    with open(path, 'w') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint, metrics=metrics), f,
                  indent=1, default=plain_number)
    print(f'metrics written to {path}')


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = launcher_config(args)
    check_checkpoint_layout(args.checkpoint)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_pictures(cfg, args.show_dir)
    if args.tta:
        enable_tta(cfg)
    with process_group_closed_on_exit():
        run_test(runner=build_runner(cfg), args=args, cfg=cfg)


if __name__ == '__main__':
    main()
