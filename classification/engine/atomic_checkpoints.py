"""Crash-safe training checkpoints for every task.

A run killed while mmengine writes a checkpoint leaves a truncated file that ``--resume`` would
then fail on. ``AtomicLocalBackend`` (registered as mmengine file backend ``atomic_local``; the
configs' CheckpointHook uses it through ``backend_args``) writes each file beside its target and
renames it into place, so a checkpoint (and ``last_checkpoint``) is either complete or absent.
``latest_complete_checkpoint`` picks what to resume from: the newest checkpoint of a work dir
whose archive is intact, reporting and passing over damaged ones."""
import logging
import os
import re
import zipfile

import mmengine
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

BACKEND_NAME = 'atomic_local'
# What CheckpointHook names its periodic checkpoints.
CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


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


def damage_of(path):
    """Why the checkpoint at ``path`` cannot be loaded (torch.save writes a zip archive whose
    members carry checksums), or None when it is intact."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f'not a complete checkpoint archive ({error})'
    return None if broken is None else f'member {broken} fails its checksum'


def latest_complete_checkpoint(work_dir, logger='current'):
    """The newest ``epoch_N.pth``/``iter_N.pth`` of ``work_dir`` that is intact, or None.
    Damaged ones are reported and skipped, so training resumes from the one before."""
    if not os.path.isdir(work_dir):
        return None
    numbered = [(int(match.group(2)), name) for name in os.listdir(work_dir)
                if (match := CHECKPOINT_NAME.match(name))]
    for _, name in sorted(numbered, reverse=True):
        path = os.path.join(work_dir, name)
        damage = damage_of(path)
        if damage is None:
            return path
        print_log(f'resume: skipping damaged checkpoint {path}: {damage}', logger,
                  level=logging.WARNING)
    return None
