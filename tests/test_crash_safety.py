"""Crash safety of training: checkpoints are written then renamed, a run killed with SIGKILL
resumes from its last complete checkpoint with the iteration, optimizer, scheduler and EMA state
carried on, a damaged last checkpoint is reported and the previous one used, and a checkpoint
that would run code on load is refused."""
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from internimage.engine.atomic_checkpoints import (AtomicLocalBackend,
                                                      latest_complete_checkpoint,
                                                      resume_problem)
from internimage.models import read_checkpoint
from internimage.models.weights_only import UnsafeCheckpointError

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / 'configs' / 'classification' / 'demo' / 'internimage_demo_shapes.py'
ITERS_PER_EPOCH = 3  # 24 training images, batches of 8


def write_config(folder, data_root, max_epochs):
    """The demo config on the tiny set, with EMA, a checkpoint every epoch, all of them kept."""
    path = Path(folder) / f'demo_{max_epochs}e.py'
    path.write_text(f'''_base_ = {str(DEMO_CONFIG)!r}
data_root = {data_root!r}
train_dataloader = dict(batch_size=8, num_workers=0,
                        dataset=dict(data_root=data_root, transform=dict(input_size=32)))
val_dataloader = dict(num_workers=0, dataset=dict(data_root=data_root,
                                                  transform=dict(input_size=32)))
test_dataloader = val_dataloader
max_epochs = {max_epochs}
train_cfg = dict(max_epochs=max_epochs, val_interval=1000)
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
                        end=max_epochs, convert_to_iter_based=True)]
custom_hooks = [dict(type='EMAHook', momentum=0.01)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1, save_best=None))
''')
    return path


def train_command(config, work_dir, *extra):
    return [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir), *extra]


def train(config, work_dir, *extra):
    finished = subprocess.run(train_command(config, work_dir, *extra), cwd=ROOT,
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished.stdout + finished.stderr


def epoch_files(work_dir):
    return sorted(Path(work_dir).glob('epoch_*.pth'), key=lambda p: int(p.stem.split('_')[1]))


def test_atomic_backend_replaces_whole_files_and_leaves_no_partial_one(tmp_path):
    backend = AtomicLocalBackend()
    target = tmp_path / 'sub' / 'epoch_1.pth'
    backend.put(b'first', target)
    backend.put(b'second version', target)
    backend.put_text('epoch_1.pth', tmp_path / 'last_checkpoint')
    assert target.read_bytes() == b'second version'
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_1.pth'
    assert sorted(p.name for p in tmp_path.rglob('*')) == ['epoch_1.pth', 'last_checkpoint',
                                                           'sub']


def test_latest_complete_checkpoint_orders_by_number_and_skips_damaged_ones(tmp_path):
    for epoch in (2, 9, 10):
        torch.save({'state_dict': {}, 'message_hub': {}, 'meta': {'epoch': epoch, 'iter': epoch}},
                   tmp_path / f'epoch_{epoch}.pth')
    (tmp_path / 'epoch_11.pth.part').write_bytes(b'half')  # a write the kill interrupted
    assert latest_complete_checkpoint(tmp_path) == str(tmp_path / 'epoch_10.pth')
    data = (tmp_path / 'epoch_10.pth').read_bytes()
    (tmp_path / 'epoch_10.pth').write_bytes(data[:len(data) // 2])
    problem = resume_problem(tmp_path / 'epoch_10.pth')
    assert problem.startswith(f'damaged checkpoint {tmp_path / "epoch_10.pth"}: truncated')
    torch.save({'state_dict': {}}, tmp_path / 'epoch_12.pth')  # weights only: no training state
    assert latest_complete_checkpoint(tmp_path) == str(tmp_path / 'epoch_9.pth')
    assert latest_complete_checkpoint(tmp_path / 'missing') is None


def test_sigkill_then_resume_continues_with_the_saved_state(shapes_root, tmp_path):
    max_epochs = 20
    config = write_config(tmp_path, shapes_root, max_epochs)
    work = tmp_path / 'work'
    process = subprocess.Popen(train_command(config, work), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (work / 'epoch_3.pth').exists():  # kill in the middle of training
        assert process.poll() is None and time.monotonic() < deadline, 'training did not start'
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()

    saved = epoch_files(work)
    assert 3 <= len(saved) < max_epochs
    for path in saved:  # whatever moment the kill hit, no checkpoint is half-written
        assert resume_problem(path) is None
        torch.load(path, weights_only=True)
    last_epoch = int(saved[-1].stem.split('_')[1])

    log = train(config, work, '--resume')
    assert f'--resume: from {saved[-1]}' in log
    assert f'resumed epoch: {last_epoch}, iter: {last_epoch * ITERS_PER_EPOCH}' in log
    final = torch.load(work / f'epoch_{max_epochs}.pth', weights_only=True)
    total_iters = max_epochs * ITERS_PER_EPOCH
    assert final['meta']['epoch'] == max_epochs and final['meta']['iter'] == total_iters
    # AdamW counted every step of both runs: its state came back with the checkpoint
    steps = {float(state['step']) for state in final['optimizer']['state'].values()}
    assert steps == {total_iters}
    # the scheduler too (a fresh one would have restarted its count at the resume)
    assert final['param_schedulers'][0]['_global_step'] == total_iters
    # and the EMA model, which counts its updates
    assert int(final['ema_state_dict']['steps']) == total_iters


def test_damaged_last_checkpoint_is_reported_and_the_previous_one_used(shapes_root, tmp_path):
    work = tmp_path / 'work'
    train(write_config(tmp_path, shapes_root, 2), work)
    last = work / 'epoch_2.pth'
    last.write_bytes(last.read_bytes()[:1000])
    log = train(write_config(tmp_path, shapes_root, 3), work, '--resume')
    assert f'resume: skipping damaged checkpoint {last}' in log
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in log
    assert resume_problem(work / 'epoch_3.pth') is None


class RunsCodeOnLoad:
    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_checkpoint_that_would_run_code_is_refused(shapes_root, tmp_path):
    evil = RunsCodeOnLoad()
    evil.marker = tmp_path / 'code_ran'
    with open(tmp_path / 'evil_pickle.pth', 'wb') as f:
        pickle.dump({'state_dict': {}, 'meta': evil}, f)
    torch.save({'state_dict': {}, 'meta': evil}, tmp_path / 'evil.pth')
    config = write_config(tmp_path, shapes_root, 1)
    for path in (tmp_path / 'evil_pickle.pth', tmp_path / 'evil.pth'):
        resumed = subprocess.run(train_command(config, tmp_path / 'work', '--resume', path),
                                 cwd=ROOT, capture_output=True, text=True)
        assert resumed.returncode != 0
        assert f'refused to load checkpoint {path}' in resumed.stderr
    assert 'unsupported GLOBAL posix.system' in resumed.stderr  # names what it refused
    with pytest.raises(UnsafeCheckpointError, match='could run arbitrary code'):
        read_checkpoint(tmp_path / 'evil.pth')
    tested = subprocess.run([sys.executable, 'tools/test.py', str(config),
                             str(tmp_path / 'evil.pth')],
                            cwd=ROOT, capture_output=True, text=True)
    assert tested.returncode != 0 and 'refused to load checkpoint' in tested.stderr
    assert not evil.marker.exists()
