"""Trains any of the project's configs (classification, detection, segmentation):

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]]
                          [--amp [float16|bfloat16]]
                          [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm]

The config names its task through ``default_scope`` and loads our code through
``custom_imports``; this script applies the command line, checks the ``load_from`` checkpoint
(a published release is converted in memory; one of which nothing fits the model is refused)
and starts mmengine's runner."""
import argparse
import os

import torch
from internimage.engine import latest_complete_checkpoint, task_of
from internimage.engine.atomic_checkpoints import resume_problem
from internimage.engine.launch import (add_common_arguments, build_runner,
                                       exits_on_usage_error, launcher_config,
                                       process_group_closed_on_exit)
from internimage.engine.released import start_from


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', const='auto', metavar='CHECKPOINT',
                        help='resume from CHECKPOINT, or without one from the latest '
                             'checkpoint of the work dir')
    parser.add_argument('--amp', nargs='?', const='auto', choices=['auto', 'float16', 'bfloat16'],
                        help='mixed precision: float16 with loss scaling (GPU only) or bfloat16; '
                             'without a value float16 on a GPU, bfloat16 on a CPU')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def apply_resume(cfg, resume):
    """``--resume CHECKPOINT`` resumes from that file if it is an intact training checkpoint;
    ``--resume`` alone from the newest intact checkpoint of the work dir (a damaged last one is
    reported and the one before used), or starts afresh when there is none."""
    if resume is None:
        return
    if resume == 'auto':
        resume = latest_complete_checkpoint(cfg.work_dir)
        if resume is None:
            print(f'--resume: no complete checkpoint in {cfg.work_dir}, training from the start')
            return
        print(f'--resume: from {resume}')
    elif not os.path.isfile(resume):
        raise SystemExit(f'--resume: checkpoint not found: {resume}')
    elif (problem := resume_problem(resume)) is not None:
        raise SystemExit(f'--resume: {problem}')
    cfg.resume = True
    cfg.load_from = resume


def apply_amp(cfg, dtype):
    """mmengine's AmpOptimWrapper on a GPU; without one, where mmengine refuses AMP, bfloat16
    autocast through our BF16AutocastOptimWrapper (on the modules the task allows)."""
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') in ('AmpOptimWrapper', 'BF16AutocastOptimWrapper'):
        print(f'--amp: the config already uses {wrapper.type}')
        return
    if wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
        raise SystemExit(f"--amp needs optim_wrapper.type 'OptimWrapper', the config has "
                         f"'{wrapper.type}'")
    on_gpu = torch.cuda.is_available()
    if dtype == 'auto':
        dtype = 'float16' if on_gpu else 'bfloat16'
    if on_gpu:
        wrapper.update(type='AmpOptimWrapper', dtype=dtype, loss_scale='dynamic')
    elif dtype == 'bfloat16':
        wrapper.type = 'BF16AutocastOptimWrapper'
        modules = task_of(cfg).cpu_bf16_modules
        if modules is not None:
            wrapper.autocast_modules = [name for name in modules if name in cfg.model]
    else:
        raise SystemExit('--amp float16 needs a GPU (float16 on a CPU is slow and needs loss '
                         'scaling); use --amp bfloat16')
    print(f'--amp: {wrapper.type} in {dtype}')


@exits_on_usage_error
def main(argv=None):
    args = parse_args(argv)
    cfg = launcher_config(args)
    apply_resume(cfg, args.resume)
    start_from(cfg)
    if args.amp:
        apply_amp(cfg, args.amp)
    with process_group_closed_on_exit():
        build_runner(cfg).train()


if __name__ == '__main__':
    main()
