"""Distributed runs on CPUs over gloo through the project's launchers: two processes of the
classification demo (tools/dist_train.sh with torchrun, and tools/slurm_train.sh under an srun
stand-in) end with the weights of one process on the same total batch; distributed evaluation
(tools/dist_test.sh) gives the single-process metrics; a detection run trains and evaluates on two
processes."""
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from internimage.demo_data.detection import generate as generate_coco
from test_detection import demo_cli_options

ROOT = Path(__file__).resolve().parents[1]
CLASSIFICATION_CONFIG = ROOT / 'configs' / 'classification' / 'demo' / 'internimage_demo_shapes.py'
DETECTION_CONFIG = ROOT / 'configs' / 'detection' / 'demo' / 'mask_rcnn_internimage_demo_shapes.py'
FSDP_CONFIG = CLASSIFICATION_CONFIG.with_name('internimage_demo_shapes_fsdp.py')
TOTAL_BATCH = 8


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def run(command, **env):
    environ = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', **env)
    return subprocess.run([str(part) for part in command], cwd=ROOT, capture_output=True,
                          text=True, env=environ)


@pytest.fixture(scope='module')
def train_pairs(shapes_root, tmp_path_factory):
    """A training file list of the shapes set (conftest.py) naming every image twice in a row,
    written beside the set, not into it (an absolute ``ann_file``).

    Unshuffled, two processes then get the same images (positions 2k to rank 0, 2k+1 to rank 1)
    and one process gets each image twice: equal losses, gradients and batch-norm statistics
    (the classifier's head has a BatchNorm, which only sees its own process's batch)."""
    root = Path(shapes_root)
    images = sorted((root / 'train').glob('*/*.png'))
    classes = sorted(folder.name for folder in (root / 'train').iterdir())
    lines = [f'{image.parent.name}/{image.name} {classes.index(image.parent.name)}\n'
             for image in images for _ in range(2)]
    path = tmp_path_factory.mktemp('pairs') / 'train_pairs.txt'
    path.write_text(''.join(lines))
    return str(path)


def classification_options(data_root, train_pairs, batch_size):
    """One epoch (48 listed images: 6 steps of 8) with deterministic training transforms (full
    image, no flips) on the paired file list ``train_pairs``, in order."""
    options = [f'train_dataloader.batch_size={batch_size}', 'train_cfg.max_epochs=1',
               f'train_dataloader.dataset.ann_file={train_pairs}',
               'train_dataloader.sampler.shuffle=False',
               'train_dataloader.dataset.transform.scale=(1.0,1.0)',
               'train_dataloader.dataset.transform.ratio=(1.0,1.0)',
               'train_dataloader.dataset.transform.hflip=0.0',
               'train_dataloader.dataset.transform.vflip=0.0', 'test_dataloader.batch_size=4',
               'param_scheduler.0.start_factor=1.0',  # full lr from the first step
               'default_hooks.logger.interval=1']
    for split in ('train', 'val', 'test'):
        options += [f'{split}_dataloader.dataset.data_root={data_root}',
                    f'{split}_dataloader.dataset.transform.input_size=32',
                    f'{split}_dataloader.num_workers=0']
    return ['--cfg-options', *options]


def training_curve(work_dir):
    """(loss, grad_norm) of every iteration, from rank 0's scalar log."""
    (scalars,) = Path(work_dir).glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    return [(record['loss'], record['grad_norm']) for record in records if 'loss' in record]


@pytest.fixture(scope='module')
def single_process(shapes_root, train_pairs, tmp_path_factory):
    work = tmp_path_factory.mktemp('single')
    trained = run([sys.executable, 'tools/train.py', CLASSIFICATION_CONFIG, '--work-dir', work,
                   *classification_options(shapes_root, train_pairs, TOTAL_BATCH)])
    assert trained.returncode == 0, trained.stderr[-3000:]
    return training_curve(work)


def assert_same_training(work, single_curve):
    """Rank 0's loss on its half of the batch is the loss of the whole batch here (the halves
    are equal), and its gradient is the average over the processes: both must be the single
    process's, step by step. Later steps drift apart by float rounding that AdamW amplifies
    where gradients are tiny, hence the looser tolerance after the first step."""
    curve = training_curve(work)
    assert len(curve) == len(single_curve) == 6
    assert curve[0] == pytest.approx(single_curve[0], rel=1e-5)
    for (loss, grad_norm), (single_loss, single_grad_norm) in zip(curve, single_curve):
        assert loss == pytest.approx(single_loss, rel=1e-3)
        assert grad_norm == pytest.approx(single_grad_norm, rel=0.1)
    # and training changed something: the loss moved by far more than the tolerance
    assert abs(single_curve[-1][0] - single_curve[0][0]) > 0.05


def test_two_processes_with_torchrun_match_one_process_on_the_total_batch(
        shapes_root, train_pairs, single_process, tmp_path):
    work = tmp_path / 'dist'
    trained = run(['bash', 'tools/dist_train.sh', CLASSIFICATION_CONFIG, 2, '--work-dir', work,
                   *classification_options(shapes_root, train_pairs, TOTAL_BATCH // 2)],
                  PORT=str(free_port()))
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert 'Epoch(train) [1][6/6]' in trained.stdout + trained.stderr  # 8 images per step
    assert_same_training(work, single_process)

    # distributed evaluation (results gathered from both ranks) = one process
    tested = run(['bash', 'tools/dist_test.sh', CLASSIFICATION_CONFIG, work / 'epoch_1.pth', 2,
                  '--work-dir', work / 'test',
                  *classification_options(shapes_root, train_pairs, 4)],
                 PORT=str(free_port()))
    assert tested.returncode == 0, tested.stderr[-3000:]
    alone = run([sys.executable, 'tools/test.py', CLASSIFICATION_CONFIG, work / 'epoch_1.pth',
                 '--work-dir', work / 'alone',
                 *classification_options(shapes_root, train_pairs, 4)])
    assert alone.returncode == 0, alone.stderr[-3000:]
    metrics = [json.loads((work / folder / 'test_metrics.json').read_text())['metrics']
               for folder in ('test', 'alone')]
    assert metrics[0] == metrics[1] and 0 <= metrics[0]['accuracy/top1'] <= 100


def test_fsdp_two_processes_match_one_process_on_the_total_batch(shapes_root, train_pairs,
                                                                single_process, tmp_path):
    work = tmp_path / 'fsdp'
    trained = run(['bash', 'tools/dist_train.sh', FSDP_CONFIG, 2, '--work-dir', work,
                   *classification_options(shapes_root, train_pairs, TOTAL_BATCH // 2)],
                  PORT=str(free_port()))
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert_same_training(work, single_process)
    # FlexibleRunner gathers the shards into one full state dict with the usual names
    state = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    assert state['classifier.patch_embed.conv1.weight'].shape == (8, 3, 3, 3)


def test_fsdp_policy_makes_each_internimage_layer_a_shard_unit():
    counted = run([sys.executable, '-c', textwrap.dedent('''
        import torch
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        from internimage.engine import internimage_layer_wrap_policy
        from internimage.models import create_classifier
        from internimage.models.layers import InternImageLayer
        torch.distributed.init_process_group('gloo', init_method='tcp://127.0.0.1:%d',
                                             rank=0, world_size=1)
        model = create_classifier('internimage_test', depths=(1, 2, 1, 1), num_classes=3)
        layers = sum(isinstance(m, InternImageLayer) for m in model.modules())
        wrapped = FSDP(model, auto_wrap_policy=internimage_layer_wrap_policy,
                       device_id=torch.device('cpu'))
        units = [m for m in wrapped.modules() if isinstance(m, FSDP)]
        print(layers, len(units), all(isinstance(u.module, InternImageLayer) for u in units[1:]))
    ''' % free_port())])
    assert counted.returncode == 0, counted.stderr[-3000:]
    assert counted.stdout.split() == ['5', '6', 'True']  # 5 layers + the root unit


def test_fsdp_keeps_the_weight_decay_groups_of_a_segmentor(tmp_path):
    """FSDP (two processes, full sharding) hands the optimizer constructor 1-D views of every
    parameter: with the shapes recorded before wrapping (as InternImageFSDPStrategy does) the
    published segmentation rule gives the groups of the unwrapped model, weight decay on the
    weights included; without the record the constructor refuses, where it would have taken
    every parameter for 1-D and decayed none."""
    script = tmp_path / 'groups.py'
    script.write_text(textwrap.dedent('''
        import json, torch
        from mmengine.config import Config
        from mmseg.registry import MODELS
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        from internimage.engine import (InternImageLayerDecayConstructor,
                                        internimage_layer_wrap_policy)
        from internimage.engine.layer_decay import record_parameter_ndims, unwrapped_name
        import segmentation  # noqa: F401
        torch.distributed.init_process_group('gloo')
        cfg = Config.fromfile('configs/segmentation/demo/upernet_internimage_demo_shapes.py')
        constructor = InternImageLayerDecayConstructor(
            dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
            dict(rule='published_segmentation', layer_decay_rate=0.9))

        def groups(model):
            params = []
            constructor.add_params(params, model)
            return {unwrapped_name(n): [g['lr'], g['weight_decay']]
                    for g in params for n in g['param_names']}

        def wrapped(record):
            model = MODELS.build(cfg.model)
            if record:
                record_parameter_ndims(model)
            return FSDP(model, auto_wrap_policy=internimage_layer_wrap_policy,
                        use_orig_params=True, device_id=torch.device('cpu'))
        plain = groups(MODELS.build(cfg.model))
        try:
            groups(wrapped(record=False))
            refused = ''
        except ValueError as error:
            refused = str(error)
        sharded = wrapped(record=True)
        if torch.distributed.get_rank() == 0:
            print(json.dumps(dict(plain=plain, sharded=groups(sharded), refused=refused,
                                  flattened=all(p.ndim == 1 for p in sharded.parameters()))))
    '''))
    groups = run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
                  '--master_port', free_port(), script])
    assert groups.returncode == 0, groups.stderr[-3000:]
    result = json.loads(groups.stdout.splitlines()[-1])
    assert result['flattened']  # what the constructor sees under FSDP
    assert result['sharded'] == result['plain']
    assert {wd for _, wd in result['plain'].values()} == {0.0, 0.05}
    assert result['plain']['backbone.levels.0.blocks.0.dcn.input_proj.weight'][1] == 0.05
    assert 'InternImageFSDPStrategy' in result['refused']


SRUN_STAND_IN = '''\
#!{python}
"""srun for a machine without SLURM: records its options, then starts --ntasks copies of the
command with the variables srun gives each task."""
import json, os, subprocess, sys
arguments, options = sys.argv[1:], {{}}
while arguments[0].startswith('-'):
    option = arguments.pop(0)
    name, _, value = option.lstrip('-').partition('=')
    options[name] = arguments.pop(0) if option == '-p' else value
with open({record!r}, 'w') as record:
    json.dump(options, record)
tasks = int(options['ntasks'])
processes = [subprocess.Popen(arguments, env=dict(os.environ, SLURM_PROCID=str(rank),
                                                  SLURM_LOCALID=str(rank), SLURM_NTASKS=str(tasks),
                                                  SLURM_NODELIST='localhost'))
             for rank in range(tasks)]
sys.exit(max(process.wait() for process in processes))
'''


def test_slurm_launcher_trains_two_tasks_like_one_process(shapes_root, train_pairs,
                                                          single_process, tmp_path):
    bin_dir, record = tmp_path / 'bin', tmp_path / 'srun_options.json'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(SRUN_STAND_IN.format(python=sys.executable, record=str(record)))
    (bin_dir / 'srun').chmod(0o755)
    work = tmp_path / 'slurm'
    trained = run(['bash', 'tools/slurm_train.sh', 'cpu_partition', 'demo_job',
                   CLASSIFICATION_CONFIG, work,
                   *classification_options(shapes_root, train_pairs, TOTAL_BATCH // 2)],
                  PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', GPUS='2', CPUS_PER_TASK='1',
                  SRUN_ARGS='--quotatype=auto', MASTER_ADDR='127.0.0.1',
                  MASTER_PORT=str(free_port()))
    assert trained.returncode == 0, trained.stderr[-3000:]
    options = json.loads(record.read_text())
    assert options == {'p': 'cpu_partition', 'job-name': 'demo_job', 'gres': 'gpu:2',
                       'ntasks': '2', 'ntasks-per-node': '2', 'cpus-per-task': '1',
                       'kill-on-bad-exit': '1', 'quotatype': 'auto'}
    assert_same_training(work, single_process)


def test_slurm_launcher_outside_srun_names_what_is_missing(tmp_path):
    started = run([sys.executable, 'tools/train.py', CLASSIFICATION_CONFIG, '--launcher',
                   'slurm', '--work-dir', tmp_path])
    assert started.returncode != 0
    assert 'SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID not set' in started.stderr


def test_detection_trains_and_evaluates_on_two_processes(tmp_path):
    coco_root = generate_coco(str(tmp_path / 'coco'), num_train=4, num_val=2, image_size=64,
                              seed=0, max_objects=3)
    options = demo_cli_options(coco_root, batch_size=1) + ['default_hooks.logger.interval=1']
    work = tmp_path / 'work'
    trained = run(['bash', 'tools/dist_train.sh', DETECTION_CONFIG, 2, '--work-dir', work,
                   '--cfg-options', *options], PORT=str(free_port()))
    assert trained.returncode == 0, trained.stderr[-3000:]
    log = trained.stdout + trained.stderr
    assert 'Iter(train) [2/2]' in log or 'Epoch(train) [1][2/2]' in log  # 4 images, 2 per step
    assert 'coco/bbox_mAP' in log
    weights = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    assert all(torch.isfinite(value).all() for value in weights.values())
