"""What the tools share: their common arguments, the config with its command-line overrides and
work dir, the exit on a UsageError of the engine, and (train.py, test.py) distributed runs on
CPUs."""
import argparse
import contextlib
import functools
import gc
import os
import subprocess

import torch
from mmengine.config import DictAction

from ..models.checkpoint import read_checkpoint
from ..models.weights_only import DamagedCheckpointError, UnsafeCheckpointError
from .config import load_config
from .errors import UsageError


def exits_on_usage_error(main):
    """Decorates a tool's ``main``: a UsageError of the engine ends the tool as ``SystemExit``
    with the error's message (printed to stderr without a traceback, exit status 1)."""
    @functools.wraps(main)
    def tool_main(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UsageError as error:
            raise SystemExit(str(error)) from None
    return tool_main


class ConfigOptionsAction(DictAction):
    """mmengine's KEY=VALUE parsing, refusing an option without '=' or with an empty key part
    (mmengine fails on the first with an unpacking error and adds the second as a key)."""

    def __call__(self, parser, namespace, values, option_string=None):
        for option in values:
            key, equals, _ = option.partition('=')
            if not equals:
                raise argparse.ArgumentError(self, f"'{option}' is not KEY=VALUE")
            if not all(key.split('.')):
                raise argparse.ArgumentError(self, f"'{option}' has an empty key or key part")
        super().__call__(parser, namespace, values, option_string)


def add_config_options(parser):
    """The ``--cfg-options`` argument of every tool that takes config overrides."""
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, default={},
                        help='override config entries, e.g. train_cfg.max_epochs=2 '
                             'model.classifier.drop_path_rate=0.2')


def positive_int(text):
    """argparse type of a count that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {value}')
    return value


def add_common_arguments(parser, distributed=True):
    """--work-dir and --cfg-options; with ``distributed`` also --launcher and --local_rank
    (tools that build a runner through ``build_runner``)."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and pictures go '
                        '(default: work_dirs/<config name>)')
    add_config_options(parser)
    if not distributed:
        return
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='distributed launcher (none: a single process)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='set by torch.distributed.launch; torchrun uses LOCAL_RANK')


def launcher_config(args):
    """The config of ``args.config`` with ``--cfg-options`` applied, launcher (``none`` for a
    tool without --launcher) and work dir set."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = getattr(args, 'launcher', 'none')
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = os.path.join('work_dirs', os.path.splitext(os.path.basename(args.config))[0])
    return cfg


def require_checkpoint(path):
    """``path`` if it names a file; a UsageError naming it otherwise, before a tool builds
    anything."""
    if not os.path.isfile(path):
        raise UsageError(f'checkpoint not found: {path}')
    return path


def read_tool_checkpoint(path, mmap=False):
    """The checkpoint at ``path`` through the one reading path (``read_checkpoint``: verified,
    weights-only); a missing, damaged or unsafe file is a UsageError with its message, raised
    before a tool builds or writes anything."""
    try:
        return read_checkpoint(path, mmap=mmap)
    except (FileNotFoundError, DamagedCheckpointError, UnsafeCheckpointError) as error:
        raise UsageError(str(error)) from None


def first_node(node_list):
    """The first host name of a SLURM node list (``node[01-04]``), expanded by scontrol."""
    try:
        hosts = subprocess.run(['scontrol', 'show', 'hostnames', node_list], check=True,
                               capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as error:
        raise UsageError(f'--launcher slurm: cannot expand the node list {node_list!r} with '
                         f'scontrol ({error}); set MASTER_ADDR') from error
    if not hosts:
        raise UsageError(f'--launcher slurm: empty node list {node_list!r}; set MASTER_ADDR')
    return hosts[0]


def slurm_environment(environ):
    """torch.distributed's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)
    from those srun sets for each task; the first node of the allocation is the master unless
    MASTER_ADDR is given."""
    missing = [name for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID')
               if name not in environ]
    if missing:
        raise UsageError(f'--launcher slurm: {", ".join(missing)} not set (start the script '
                         'with srun, e.g. through tools/slurm_train.sh)')
    master = environ.get('MASTER_ADDR') or first_node(
        environ.get('SLURM_NODELIST') or environ.get('SLURM_JOB_NODELIST', ''))
    return dict(RANK=environ['SLURM_PROCID'], WORLD_SIZE=environ['SLURM_NTASKS'],
                LOCAL_RANK=environ['SLURM_LOCALID'], MASTER_ADDR=master,
                MASTER_PORT=environ.get('MASTER_PORT', '29500'))


def prepare_cpu_distributed(cfg):
    """Distributed runs without a GPU (mmengine 0.10.7): mmengine's init_dist calls
    torch.cuda.set_device and wraps the model with device_ids=[LOCAL_RANK], both of which fail
    on a CPU. Here the gloo process group is started first (mmengine then keeps it) and the DDP
    wrapper gets no device ids. On a GPU mmengine does all of this itself."""
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    if cfg.launcher == 'slurm':
        os.environ.update(slurm_environment(os.environ))
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group('gloo')
    if 'runner_type' in cfg:  # FlexibleRunner: its strategy wraps the model
        if cfg.get('strategy', {}).get('type') in ('FSDPStrategy', 'InternImageFSDPStrategy'):
            # FSDP refuses CPU modules unless its device is given as the CPU
            cfg.strategy.setdefault('model_wrapper', {})['device_id'] = 'cpu'
        return
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    if wrapper.setdefault('type', 'MMDistributedDataParallel') != 'MMDistributedDataParallel':
        raise UsageError(f"a CPU distributed run needs model_wrapper_cfg.type "
                         f"'MMDistributedDataParallel', the config has '{wrapper['type']}'")
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def build_runner(cfg):
    """mmengine's Runner, or the runner class the config names (``runner_type``, e.g.
    FlexibleRunner for sharded training), distributed on CPUs too."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    prepare_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


@contextlib.contextmanager
def process_group_closed_on_exit():
    """Closes the distributed process group when the launcher is done, while the interpreter is
    fully alive. Left to the interpreter's teardown, gloo's threads are sometimes destroyed
    while still running ('terminate called without an active exception'), which aborts a rank
    after its work has finished and turns a successful run into a failed one. The runner lives
    in reference cycles after its last use, and its DDP wrapper holds the group, so the cycles
    are collected first (the body must keep no reference to the runner); after success the
    ranks then meet at a barrier, so that none closes its connections while another still uses
    them."""
    succeeded = False
    try:
        yield
        succeeded = True
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            gc.collect()
            if succeeded:
                torch.distributed.barrier()
            torch.distributed.destroy_process_group()
