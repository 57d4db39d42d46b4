"""Loads the compiled DCNv3 library once. A missing build is not an error: callers fall back to
the pure-PyTorch reference, and the user is told once why it is slow."""
import glob
import os
import warnings

import torch

_HERE = os.path.dirname(os.path.abspath(__file__))
_load_error = None
_warned = False


def _load():
    global _load_error
    libraries = glob.glob(os.path.join(_HERE, '_C*.so'))
    if not libraries:
        _load_error = 'ops_dcnv3/_C*.so is not built (run tools/setup_env.sh)'
        return False
    try:
        torch.ops.load_library(libraries[0])
    except (OSError, RuntimeError) as exc:  # e.g. built against another torch
        _load_error = f'{libraries[0]} failed to load: {exc}'
        return False
    return True


AVAILABLE = _load()


def warn_fallback():
    """Warns (once per process) that the slow reference replaces the compiled op."""
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(f'DCNv3: compiled operator unavailable ({_load_error}); falling back to the '
                  'pure-PyTorch reference, which is much slower.', RuntimeWarning, stacklevel=3)
