"""Weights-only unpickling of everything our checkpoints hold. mmengine 0.10.7 calls torch.load
with torch's default ``weights_only=True``, under which a Runner checkpoint (numpy values,
mmengine's HistoryBuffer) fails to load.

Instead of turning safe loading off we allow exactly the extra types that mmengine and mmcv
write: numpy scalars and arrays of plain numeric/bool/str dtypes (best scores, log history) and
mmengine's ``HistoryBuffer`` (the message hub's smoothed logs), whose state is those arrays plus
its statistics methods, pickled as ``getattr(HistoryBuffer, 'mean')``. For that the pickle name
``getattr`` is bound to ``history_buffer_method``, which answers only those lookups: general
``getattr`` stays forbidden, and nothing that can run code on load is added.

``load_weights_only`` allows these types for its own call only (no global state);
``internimage.engine`` installs the same list for mmengine's own loads.

Before unpickling, ``load_weights_only`` verifies the file (``zip_damage``): torch.save writes a
zip archive whose members carry CRC-32 checksums, which torch's reader does not check, so a
checkpoint with flipped bytes inside a tensor would otherwise load with wrong weights. Every
entry point (our loader, mmengine's through ``internimage.engine``, the tools) goes through
this one function, so none uses a damaged file."""
import contextlib
import os
import pickle
import pickletools
import re
import struct
import warnings
import zipfile

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def numpy_globals():
    """The numpy types in checkpoint metadata, under both their numpy 2 and numpy 1 pickle
    names (checkpoints written with numpy 1 say ``numpy.core``)."""
    multiarray = np._core.multiarray
    dtype_classes = [type(np.dtype(code)) for code in '?bhilqBHILQefdgFDGU']
    return [multiarray.scalar, (multiarray.scalar, 'numpy.core.multiarray.scalar'),
            multiarray._reconstruct,
            (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
            np.ndarray, np.dtype, *dtype_classes]


def history_buffer_method(owner, name):
    """``getattr`` restricted to what a pickled HistoryBuffer asks for: one of its statistics
    methods (min, max, mean, current and any registered with ``register_statistics``). Any other
    lookup is a refused global in torch's words (an UnpicklingError saying ``Unsupported
    global``), so that it is reported as unsafe content, not as damage."""
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is not HistoryBuffer or name not in allowed:
        raise pickle.UnpicklingError(
            f'Unsupported global: GLOBAL builtins.getattr for attribute {name!r} of {owner!r}; '
            'only HistoryBuffer statistics methods are allowed in weights-only loading')
    return getattr(HistoryBuffer, name)


def checkpoint_globals():
    """All the types a Runner checkpoint of this project may hold beyond tensors."""
    return [*numpy_globals(), HistoryBuffer,
            (history_buffer_method, '__builtin__.getattr'),
            (history_buffer_method, 'builtins.getattr')]


@contextlib.contextmanager
def allowed_for_this_load(safe_globals):
    """Adds the ``safe_globals`` that torch's allow-list lacks for the duration of the context
    and removes exactly those afterwards. (torch's own ``safe_globals`` context removes every
    listed global on exit, also ones that were allowed before it.)"""
    present = set(map(str, torch.serialization.get_safe_globals()))
    added = [g for g in safe_globals if str(g) not in present]
    torch.serialization.add_safe_globals(added)
    try:
        yield
    finally:
        kept = [g for g in torch.serialization.get_safe_globals()
                if str(g) not in set(map(str, added))]
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(kept)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that weights-only loading refuses: its unpickling could run code (or needs
    types we do not allow), or it is pickled with opcodes torch's weights-only unpickler lacks."""


class DamagedCheckpointError(ValueError):
    """A checkpoint file that is empty, truncated, corrupted or not a checkpoint at all."""

    def __init__(self, path, why):
        super().__init__(f'damaged checkpoint {path}: {why}')


ZIP_MAGIC = b'PK\x03\x04'
# torch.save before torch 1.6 (``_use_new_zipfile_serialization=False``) starts its files with
# this pickled number; that format carries no checksums.
LEGACY_MAGIC = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)
PICKLE_PROTOCOLS = range(2, pickle.HIGHEST_PROTOCOL + 1)
# torch's (and ``history_buffer_method``'s) words for a refused global (as opposed to bytes it
# cannot parse).
UNSAFE_GLOBAL = re.compile(r'unsupported GLOBAL|Unsupported global')
# torch's words for a pickle opcode its weights-only unpickler does not implement.
UNSUPPORTED_OPCODE = re.compile(r'Unsupported operand (\d+)')
# torch's words for tensors saved on a device this machine lacks (map_location fixes it).
DEVICE_ERROR = 'Attempting to deserialize object on'
# What zipfile and torch's readers raise on truncated or corrupted bytes (measured by feeding
# them truncated and bit-flipped files), besides RuntimeErrors other than DEVICE_ERROR.
CORRUPTION_ERRORS = (EOFError, IndexError, KeyError, ValueError, AssertionError, struct.error,
                     NotImplementedError, zipfile.BadZipFile, OSError)


def file_format(path):
    """'zip' (torch.save), 'legacy' (torch.save before 1.6), 'pickle' (a plain pickle),
    'empty' or 'other', from the first bytes of the file."""
    with open(path, 'rb') as file:
        head = file.read(len(LEGACY_MAGIC))
    if not head:
        return 'empty'
    if head.startswith(ZIP_MAGIC):
        return 'zip'
    if LEGACY_MAGIC.startswith(head):  # also a legacy file cut inside its first bytes
        return 'legacy'
    if head[0] == pickle.PROTO[0] and len(head) > 1 and head[1] in PICKLE_PROTOCOLS:
        return 'pickle'
    return 'other'


def zip_damage(path):
    """Why the zip checkpoint at ``path`` is damaged, or None: every member is read and its
    CRC-32 verified (flipped bytes in a tensor are caught only this way), and the archive must
    be torch's (a ``<name>/data.pkl`` record)."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = archive.namelist()
    except CORRUPTION_ERRORS as error:
        return f'truncated or corrupted zip archive ({type(error).__name__}: {error})'
    if broken is not None:
        return f'member {broken} fails its CRC-32 check (the bytes changed after saving)'
    if not any(name.count('/') == 1 and name.endswith('/data.pkl') for name in names):
        return f'a zip archive but not a torch checkpoint (no data.pkl among {names[:3]})'
    return None


def refusal(path, error):
    """The UnsafeCheckpointError for torch's weights-only ``error`` (its own message suggests
    turning safe loading off)."""
    found = re.search(r'(Unsupported[^\n]*|unsupported GLOBAL[^\n]*)', str(error))
    refused = found.group(1) if found else str(error).splitlines()[0]
    return UnsafeCheckpointError(
        f'refused to load checkpoint {path}: it holds objects that weights-only loading does '
        f'not allow ({refused}); unpickling them could run arbitrary code. If you trust its '
        'source, load it once with torch.load(weights_only=False) and save its tensors again.')


def unsupported_opcode(error):
    """The pickle opcode (pickletools' OpcodeInfo) that torch's weights-only unpickler stopped
    at, or None when ``error`` is not about one or names no pickle opcode."""
    found = UNSUPPORTED_OPCODE.search(str(error))
    return pickletools.code2op.get(chr(int(found.group(1)))) if found else None


def format_refusal(path, opcode):
    """The UnsafeCheckpointError for an intact checkpoint pickled with ``opcode``, which torch's
    weights-only unpickler lacks: it reads protocols 2 and 3, and protocol 4 and 5 files start
    with FRAME. Loading stopped there, so nothing of the content was checked or run."""
    return UnsafeCheckpointError(
        f'refused to load checkpoint {path}: it is pickled with opcode {opcode.name} '
        f'({ord(opcode.code):#04x}) of pickle protocol {opcode.proto}, which torch\'s '
        'weights-only unpickler cannot read (torch.save with pickle_protocol=4 or higher '
        'writes it); it was refused for its format before its content was checked. If you '
        'trust its source, load it with torch.load(weights_only=False) and torch.save it again '
        'with the default protocol (2).')


def read_damage(path, kind, error):
    """The DamagedCheckpointError for a file whose bytes torch could not read."""
    detail = re.search(r'WeightsUnpickler error: ([^\n]*)', str(error))
    reason = detail.group(1) if detail else f"{type(error).__name__}: {str(error).split('. ')[0]}"
    where = "torch's legacy format, which has no checksums" if kind == 'legacy' else 'the archive'
    return DamagedCheckpointError(path, f'truncated or corrupted data in {where} ({reason})')


def is_corruption(error):
    """Whether torch's ``error`` comes from unreadable bytes, not from a device to map to."""
    if isinstance(error, RuntimeError):
        return DEVICE_ERROR not in str(error)
    return isinstance(error, CORRUPTION_ERRORS)


def check_format(path, kind):
    """Raises for a file of ``kind`` that is not an intact torch checkpoint: an empty one, other
    bytes or a zip archive failing ``zip_damage`` are damaged; a plain pickle is refused, as
    weights-only loading cannot read it."""
    if kind == 'empty':
        raise DamagedCheckpointError(path, 'the file is empty (0 bytes)')
    if kind == 'other':
        with open(path, 'rb') as file:
            head = file.read(16)
        hint = '; a web page saved by a failed download?' if head.lstrip()[:1] == b'<' else ''
        raise DamagedCheckpointError(
            path, f'not a checkpoint: neither a zip archive written by torch.save nor a pickle '
                  f'(it starts with {head!r}{hint})')
    if kind == 'pickle':
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {path}: it is a plain pickle, not a torch checkpoint; '
            'weights-only loading cannot read it, and unpickling it could run arbitrary code. '
            'If you trust its source, load it with torch.load(weights_only=False) and '
            'torch.save its tensors.')
    if kind == 'zip':
        damage = zip_damage(path)
        if damage is not None:
            raise DamagedCheckpointError(path, damage)


def unpickle(path, kind, map_location, mmap):
    """torch.load of a verified file, allowing ``checkpoint_globals``. In an intact zip archive an
    unpickling failure is content weights-only loading refuses, or a pickle opcode it cannot
    read; a legacy file has no checksums, so there it may be damage, and a legacy file that
    loads does so with a warning."""
    try:
        with allowed_for_this_load(checkpoint_globals()):
            checkpoint = torch.load(path, map_location=map_location, weights_only=True,
                                    mmap=mmap and kind == 'zip')
    except pickle.UnpicklingError as error:
        opcode = unsupported_opcode(error)
        if kind == 'zip' and opcode is not None:
            raise format_refusal(path, opcode) from error
        if kind == 'zip' or UNSAFE_GLOBAL.search(str(error)):
            raise refusal(path, error) from error
        raise read_damage(path, kind, error) from error
    except (RuntimeError, *CORRUPTION_ERRORS) as error:
        if not is_corruption(error):
            raise
        raise read_damage(path, kind, error) from error
    if kind == 'legacy':
        warnings.warn(f'checkpoint {path} is in torch\'s legacy format, which has no '
                      'checksums: its integrity cannot be verified (torch.save it again)')
    return checkpoint


def load_weights_only(path, map_location='cpu', mmap=False):
    """The checkpoint dict at ``path``, verified (``check_format``) and unpickled weights-only
    allowing ``checkpoint_globals``. ``mmap`` memory-maps the tensors of a zip checkpoint.
    Raises DamagedCheckpointError or UnsafeCheckpointError, naming the file."""
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    kind = file_format(path)
    check_format(path, kind)
    checkpoint = unpickle(path, kind, map_location, mmap)
    if not isinstance(checkpoint, dict):
        raise DamagedCheckpointError(path, f'it holds a {type(checkpoint).__name__}, not a '
                                           'checkpoint (a dict of tensors or state dicts)')
    return checkpoint
