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
``classification.engine`` installs the same list for mmengine's own loads."""
import contextlib
import os
import pickle
import re

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
    methods (min, max, mean, current and any registered with ``register_statistics``)."""
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is not HistoryBuffer or name not in allowed:
        raise ValueError(f'checkpoint asks for attribute {name!r} of {owner!r}; only '
                         'HistoryBuffer statistics methods are allowed in weights-only loading')
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
    """A checkpoint whose unpickling could run code (or needs types we do not allow)."""


def load_weights_only(path, map_location='cpu', **load_options):
    """``torch.load(path, weights_only=True)`` allowing ``checkpoint_globals``, with a clear
    refusal of anything else (torch's own message suggests turning safe loading off)."""
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        with allowed_for_this_load(checkpoint_globals()):
            return torch.load(path, map_location=map_location, weights_only=True,
                              **load_options)
    except pickle.UnpicklingError as error:
        found = re.search(r'(Unsupported[^\n]*|unsupported GLOBAL[^\n]*)', str(error))
        refused = found.group(1) if found else str(error).splitlines()[0]
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {path}: it holds objects that weights-only loading '
            f'does not allow ({refused}); unpickling them could run arbitrary code. If you '
            'trust its source, load it once with torch.load(weights_only=False) and save its '
            'tensors again.') from error
