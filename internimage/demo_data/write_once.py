"""Demo data sets are written once: a folder holding a complete set generated with the same
settings is kept, anything else is (re)written. The settings file is written last and removed
before a rewrite, so an interrupted run never looks complete."""
import json
import os

STAMP = 'generated.json'


def is_complete(out_dir, settings, required=()):
    """Whether ``out_dir`` holds a set written with ``settings`` and all ``required`` files."""
    stamp = os.path.join(out_dir, STAMP)
    if not os.path.isfile(stamp):
        return False
    with open(stamp) as f:
        if json.load(f) != settings:
            return False
    return all(os.path.isfile(os.path.join(out_dir, name)) for name in required)


def write_once(out_dir, settings, write, required=()):
    """Calls ``write(out_dir)`` unless ``out_dir`` is already complete for ``settings``
    (``required``: files relative to out_dir that a complete set has); returns out_dir."""
    if is_complete(out_dir, settings, required):
        return out_dir
    stamp = os.path.join(out_dir, STAMP)
    if os.path.exists(stamp):
        os.remove(stamp)
    os.makedirs(out_dir, exist_ok=True)
    write(out_dir)
    with open(stamp, 'w') as f:
        json.dump(settings, f)
    return out_dir
