"""A released checkpoint as a checkpoint of our model for a config: the one conversion that
``tools/convert_checkpoint.py --config`` writes and ``tools/test.py`` applies in memory. The
layout comes from the config's task (``Task.released_layout``); the target names and shapes from
the config's model built on the meta device, so no second copy of the weights is made."""
import torch
from mmengine.registry import DefaultScope, MODELS

from internimage.models.checkpoint import released_state_dict
from internimage.models.conversion import convert_state_dict, shapes_of

from .tasks import task_of


def model_shapes(cfg):
    """``{name: shape}`` of the state dict of the model ``cfg.model`` (built on the meta
    device, in the config's scope)."""
    scope = cfg.get('default_scope') or 'mmengine'
    with DefaultScope.overwrite_default_scope(scope), torch.device('meta'):
        model = MODELS.build(cfg.model)
    return shapes_of(model.state_dict())


def convert_released(cfg, checkpoint, use_ema=False, shapes=None):
    """(state dict of our model for ``cfg``, Plan) from a loaded released ``checkpoint``
    (``shapes``: the model's, if known); raises ConversionError, naming the entries, when it
    does not convert completely."""
    state_dict = released_state_dict(checkpoint, use_ema)
    layout = task_of(cfg).released_layout(cfg.model, list(state_dict))
    return convert_state_dict(layout, state_dict, shapes or model_shapes(cfg))


def weights_for(cfg, checkpoint):
    """(state dict, Plan) of a released ``checkpoint`` converted for ``cfg``, or (None, None)
    when its entries are already our model's (a checkpoint of ours loads as it is)."""
    shapes = model_shapes(cfg)
    names = set(checkpoint.get('state_dict', {})) if isinstance(checkpoint, dict) else set()
    if names == set(shapes):
        return None, None
    return convert_released(cfg, checkpoint, shapes=shapes)
