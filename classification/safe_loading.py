"""Weights-only unpickling of everything our checkpoints hold (DESIGN.md: mmengine calls
torch.load with torch's default ``weights_only=True``, so a Runner checkpoint fails to resume).

Instead of turning safe loading off we allow exactly the extra types that mmengine and mmcv
write: numpy scalars and arrays of plain numeric/bool/str dtypes (best scores, log history) and
mmengine's ``HistoryBuffer`` (the message hub's smoothed logs), whose state is those arrays plus
its statistics methods, pickled as ``getattr(HistoryBuffer, 'mean')``. For that the pickle name
``getattr`` is bound to ``history_buffer_method``, which answers only those lookups: general
``getattr`` stays forbidden, and nothing that can run code on load is added."""
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


def allow_checkpoint_globals():
    """Adds ``checkpoint_globals`` to torch's weights-only allow-list for this process, so that
    mmengine's own loads (``--resume``, ``load_from``) work. Idempotent."""
    torch.serialization.add_safe_globals(checkpoint_globals())
