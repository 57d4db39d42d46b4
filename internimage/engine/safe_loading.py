"""mmengine's own checkpoint loads (``--resume``, ``load_from``, init_cfgs it handles) made
weights-only with our allow-list (``internimage.models.weights_only``): mmengine calls
torch.load with torch's default ``weights_only=True``, which refuses its own Runner
checkpoints, and its refusal suggests turning safe loading off."""
import torch
from mmengine.runner.checkpoint import CheckpointLoader

from ..models.weights_only import checkpoint_globals, load_weights_only


def load_local_checkpoint(filename, map_location=None):
    """mmengine's loader of local files (prefix ''), weights-only with our refusal message."""
    return load_weights_only(filename, map_location=map_location)


def install():
    """Adds ``checkpoint_globals`` to torch's weights-only allow-list for this process and
    routes mmengine's local checkpoint loading through ``load_weights_only``. Idempotent."""
    torch.serialization.add_safe_globals(checkpoint_globals())
    CheckpointLoader.register_scheme('', load_local_checkpoint, force=True)
