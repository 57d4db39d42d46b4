"""Crash-safe training checkpoints for every task.

A run killed while mmengine writes a checkpoint leaves a truncated file that ``--resume`` would
then fail on. ``AtomicLocalBackend`` (registered as mmengine file backend ``atomic_local``; the
configs' CheckpointHook uses it through ``backend_args``) writes each file beside its target and
renames it into place, so a checkpoint (and ``last_checkpoint``) is either complete or absent.
``latest_complete_checkpoint`` picks what to resume from: the newest checkpoint of a work dir
that is intact (``load_weights_only`` verifies every checksum) and a training checkpoint,
reporting and passing over the others; ``resume_problem`` checks an explicit ``--resume PATH``
the same way before the run starts."""
import logging
import os
import re

import mmengine
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

from ..models.weights_only import DamagedCheckpointError, load_weights_only

BACKEND_NAME = 'atomic_local'
# What CheckpointHook names its periodic checkpoints.
CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')
# What mmengine's Runner.resume reads without checking that it is there.
TRAINING_ENTRIES = ('state_dict', 'message_hub', 'meta')
TRAINING_META = ('epoch', 'iter')


def install():
    """Registers ``AtomicLocalBackend`` as mmengine file backend ``atomic_local``."""
    register_backend(BACKEND_NAME, AtomicLocalBackend, force=True)


class AtomicLocalBackend(LocalBackend):
    """Local files written as a whole: to ``<name>.part``, flushed to disk, then renamed."""

    def put(self, obj, filepath):
        filepath = os.fspath(filepath)
        mmengine.mkdir_or_exist(os.path.dirname(filepath))
        partial = f'{filepath}.part'
        with open(partial, 'wb') as file:
            file.write(obj)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, filepath)

    def put_text(self, obj, filepath, encoding='utf-8'):
        self.put(obj.encode(encoding), filepath)


def missing_training_entries(checkpoint):
    """The entries of a training checkpoint that ``checkpoint`` lacks (``meta.epoch`` for one
    inside ``meta``)."""
    missing = [key for key in TRAINING_ENTRIES if key not in checkpoint]
    meta = checkpoint.get('meta')
    meta = meta if isinstance(meta, dict) else {}
    return missing + [f'meta.{key}' for key in TRAINING_META if key not in meta]


def resume_problem(path):
    """Why a run cannot resume from ``path`` (a damaged file, or a checkpoint without the
    training state, e.g. converted or released weights), or None. Memory-mapped: the check
    copies no weights. A file that would run code on load is refused (raises)."""
    try:
        checkpoint = load_weights_only(path, mmap=True)
    except DamagedCheckpointError as error:
        return str(error)
    missing = missing_training_entries(checkpoint)
    if missing:
        return (f'{path} is not a training checkpoint: it has no {", ".join(missing)} (weights '
                'alone start a run through load_from, not --resume)')
    return None


def latest_complete_checkpoint(work_dir, logger='current'):
    """The newest ``epoch_N.pth``/``iter_N.pth`` of ``work_dir`` that can be resumed from, or
    None. Damaged ones are reported and skipped, so training resumes from the one before."""
    if not os.path.isdir(work_dir):
        return None
    numbered = [(int(match.group(2)), name) for name in os.listdir(work_dir)
                if (match := CHECKPOINT_NAME.match(name))]
    for _, name in sorted(numbered, reverse=True):
        path = os.path.join(work_dir, name)
        problem = resume_problem(path)
        if problem is None:
            return path
        print_log(f'resume: skipping {problem}', logger, level=logging.WARNING)
    return None
