"""Evaluates a checkpoint with any of the project's configs:

    python tools/test.py CONFIG CHECKPOINT|MODEL.onnx [--work-dir DIR] [--show-dir DIR] [--tta]
                         [--throughput [BATCHES]] [--allow-partial]
                         [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm]

Metrics come from the config's test_evaluator (top-1/5, COCO mAP, mIoU); ``--show-dir`` turns on
the config's visualization hook and saves the pictures there; ``--tta`` runs the config's
multi-scale + flip test (its ``tta_pipeline`` and ``tta_model``); ``--throughput`` times the model's
inference on the test data instead of evaluating. The metrics are also written to
``<work dir>/test_metrics.json``. A damaged checkpoint, or one that leaves weights of the model
unset or of the wrong shape (unless ``--allow-partial``), is refused before anything runs."""
import argparse
import importlib
import inspect
import json
import os
import time

import torch
from mmengine.dist import is_main_process
from mmengine.model import BaseTTAModel, is_model_wrapper

from internimage.engine.launch import (add_common_arguments, build_runner, exits_on_usage_error,
                                       launcher_config, positive_int, process_group_closed_on_exit,
                                       read_tool_checkpoint, require_checkpoint)
from internimage.engine.released import model_shapes, weights_for
from internimage.models.checkpoint import fit_report
from internimage.models.conversion import ConversionError

THROUGHPUT_WARMUP = 3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file: ours, or a published release '
                        '(converted in memory, see tools/convert_checkpoint.py), or a whole '
                        'model exported by tools/export.py (.onnx: run in ONNX Runtime)')
    parser.add_argument('--show-dir', help='save pictures of the predictions here')
    parser.add_argument('--tta', action='store_true',
                        help="multi-scale + flip test with the config's tta_pipeline/tta_model")
    parser.add_argument('--throughput', type=positive_int, nargs='?', const=20,
                        metavar='BATCHES',
                        help='measure images/s over BATCHES test batches (default 20)')
    parser.add_argument('--allow-partial', action='store_true',
                        help='evaluate a checkpoint that leaves weights of the model unset or '
                             'of the wrong shape (refused otherwise)')
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


def refuse_unfit(cfg, checkpoint, path, allow_partial, conversion_error=None):
    """Refuses, naming the entries, a checkpoint that leaves weights of the model unset or of
    other shapes: mmengine would load what fits with a warning and evaluate random weights for
    the rest. ``allow_partial`` lets it through (mmengine loads what fits)."""
    shapes = model_shapes(cfg)
    state_dict = checkpoint.get('state_dict', {})
    report = fit_report(shapes, state_dict)
    if report.clean:
        return
    if shapes.keys() & state_dict.keys():  # our layout: say which entries do not fit
        problem = f'{path} does not fit the model: {report.describe()}'
    else:
        problem = (f'{path}: neither a checkpoint of this model nor a release that converts '
                   f'into it: {conversion_error}')
    if not allow_partial:
        raise SystemExit(f'{problem}; nothing evaluated (--allow-partial evaluates it anyway)')
    print(f'--allow-partial: evaluating with the weights that fit: {problem}')


def released_weights(cfg, path, allow_partial=False):
    """A checkpoint that is not ours (a published release) converted in memory for the config's
    model (internimage/engine/released.py), or None for one of ours, which mmengine loads.
    Memory-mapped: reading the names costs no copy of a large checkpoint."""
    checkpoint = read_tool_checkpoint(path, mmap=True)
    try:
        state_dict, plan = weights_for(cfg, checkpoint)
    except (ConversionError, KeyError, ValueError) as error:
        refuse_unfit(cfg, checkpoint, path, allow_partial, error)
        return None
    if plan is None:
        refuse_unfit(cfg, checkpoint, path, allow_partial)
        return None
    print(f'{path}: a released checkpoint, converted in memory\n{plan.describe()}')
    return state_dict


def load_converted(runner, state_dict):
    """Loads the converted release into the model under test (inside DDP and TTA wrappers)."""
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if isinstance(model, BaseTTAModel):
        model = model.module
    model.load_state_dict(state_dict, strict=True)


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


def write_metrics(cfg, args, metrics):
    path = os.path.join(cfg.work_dir, 'test_metrics.json')
    with open(path, 'w') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint, metrics=metrics), f,
                  indent=1, default=plain_number)
    print(f'metrics written to {path}')


def run_test(runner, args, cfg):
    """Throughput measurement or evaluation; the main process writes the metrics file."""
    if args.throughput:
        runner.load_or_resume()
        measure_throughput(runner, args.throughput)
        return
    metrics = runner.test()
    if is_main_process():
        write_metrics(cfg, args, metrics)


def evaluate_onnx(cfg, args):
    """The exported whole model in ONNX Runtime on the test set, one process."""
    from internimage.deploy.evaluate import evaluate_exported
    unsupported = [flag for flag, value in (('--tta', args.tta), ('--show-dir', args.show_dir),
                                            ('--throughput', args.throughput),
                                            ('--allow-partial', args.allow_partial),
                                            ('--launcher', args.launcher != 'none')) if value]
    if unsupported:
        raise SystemExit(f'{" ".join(unsupported)}: not for an exported model (.onnx)')
    metrics = evaluate_exported(cfg, args.checkpoint)
    os.makedirs(cfg.work_dir, exist_ok=True)
    print(json.dumps(metrics, default=plain_number))
    write_metrics(cfg, args, metrics)


def evaluate(cfg, args, converted):
    """Builds the runner, loads a converted release into it, and tests; the runner is gone
    when this returns (process_group_closed_on_exit)."""
    runner = build_runner(cfg)
    if converted is not None:
        load_converted(runner, converted)
    run_test(runner=runner, args=args, cfg=cfg)


@exits_on_usage_error
def main(argv=None):
    args = parse_args(argv)
    require_checkpoint(args.checkpoint)
    cfg = launcher_config(args)
    if args.checkpoint.endswith('.onnx'):
        return evaluate_onnx(cfg, args)
    converted = released_weights(cfg, args.checkpoint, args.allow_partial)
    cfg.load_from = None if converted is not None else args.checkpoint
    if args.show_dir:
        enable_pictures(cfg, args.show_dir)
    if args.tta:
        enable_tta(cfg)
    with process_group_closed_on_exit():
        evaluate(cfg, args, converted)


if __name__ == '__main__':
    main()
