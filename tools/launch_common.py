"""What tools/train.py and tools/test.py share: their common arguments, reading a config with
its command-line overrides (unknown top-level keys refused), and the work dir."""
import os

from mmengine.config import Config, DictAction


def add_common_arguments(parser):
    parser.add_argument('--work-dir', help='where logs, checkpoints and pictures go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries, e.g. train_cfg.max_epochs=2 '
                             'model.classifier.drop_path_rate=0.2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='distributed launcher (none: a single process)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='set by torch.distributed.launch; torchrun uses LOCAL_RANK')


def check_overrides(cfg, options):
    """Refuses overrides of top-level keys the config does not have: a typo such as
    ``train_cgf.max_epochs=1`` would otherwise be added silently and change nothing."""
    unknown = sorted({key.split('.')[0] for key in options} - set(cfg.keys()))
    if unknown:
        raise SystemExit(f'--cfg-options: unknown config key(s) {unknown}; the config has '
                         f'{sorted(cfg.keys())}')


def load_config(args):
    """The config of ``args.config`` with ``--cfg-options`` applied, launcher and work dir set."""
    if not os.path.isfile(args.config):
        raise SystemExit(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    check_overrides(cfg, args.cfg_options)
    cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = os.path.join('work_dirs', os.path.splitext(os.path.basename(args.config))[0])
    return cfg


def build_runner(cfg):
    """mmengine's Runner, or the runner class the config names (``runner_type``, e.g.
    FlexibleRunner for sharded training)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
