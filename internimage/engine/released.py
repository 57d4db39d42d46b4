"""A released checkpoint as a checkpoint of our model for a config: the one conversion that
``tools/convert_checkpoint.py --config`` writes, ``tools/test.py`` applies in memory and
``tools/train.py`` applies to ``load_from`` (``start_from``). The layout comes from the config's
task (``Task.released_layout``); the target names and shapes from the config's model built on
the meta device, so no second copy of the weights is made."""
import copy

import torch
from mmengine.registry import DefaultScope, MODELS
from mmengine.runner.checkpoint import CheckpointLoader

from internimage.models.checkpoint import fit_report, released_state_dict
from internimage.models.conversion import ConversionError, convert_state_dict, rename, shapes_of

from .errors import UsageError
from .launch import read_tool_checkpoint, require_checkpoint
from .tasks import task_of

# mmengine reads `load_from` through its CheckpointLoader; a release converted in memory is
# served under this prefix (registered when first used), so that the runner's own load and its
# after_load_checkpoint hooks (EMA) take it.
IN_MEMORY = 'converted-in-memory:'
_converted = {}


def model_shapes(cfg):
    """``{name: shape}`` of the state dict of the model ``cfg.model`` (built on the meta
    device, in the config's scope)."""
    scope = cfg.get('default_scope') or 'mmengine'
    with DefaultScope.overwrite_default_scope(scope), torch.device('meta'):
        model = MODELS.build(copy.deepcopy(cfg.model))  # mmdet's DETRs edit the dict they get
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


def _serve_converted(filename, map_location=None):
    return _converted[filename[len(IN_MEMORY):]]


def _fitting(report, state_dict):
    """How many entries of ``state_dict`` load into the model (LoadReport ``report``)."""
    return len(state_dict) - len(report.unexpected) - len(report.mismatched) - len(report.ignored)


def start_from(cfg):
    """Makes the training run of ``cfg`` start from what its ``load_from`` holds for the model,
    or refuses it before anything is built. The checkpoint is read as ours (entries named as
    the model's: mmengine loads what fits) and as a published release renamed by the task's
    layout (as tools/test.py converts it); the reading under which more entries fit is used,
    a converted one served to the runner from memory. Entries that do not fit (a head with
    other classes: the published fine-tunes start so) are reported. A checkpoint of which no
    entry fits is refused: mmengine would log missing keys and train from random weights."""
    path = cfg.get('load_from')
    if not path or cfg.get('resume'):
        return
    checkpoint = read_tool_checkpoint(require_checkpoint(path), mmap=True)
    shapes = model_shapes(cfg)
    readings, problem = [], None
    ours = checkpoint.get('state_dict') if isinstance(checkpoint, dict) else None
    if isinstance(ours, dict):
        readings.append((ours, 'a checkpoint of this model', False))
    try:
        released = released_state_dict(checkpoint)
        layout = task_of(cfg).released_layout(cfg.model, list(released))
        readings.append((rename(layout, released)[0],
                         f'a released checkpoint, converted in memory ({layout.name})', True))
    except (ConversionError, KeyError, TypeError, ValueError) as error:
        problem = error
    if not readings:
        raise UsageError(f'load_from {path}: neither a checkpoint of this model nor a release '
                         f'that converts into it ({problem}); nothing trained')
    reports = [fit_report(shapes, state_dict) for state_dict, _, _ in readings]
    fits = [_fitting(report, reading[0]) for report, reading in zip(reports, readings)]
    best = fits.index(max(fits))  # the first reading (ours) on a tie
    (state_dict, how, converted), report, fitting = readings[best], reports[best], fits[best]
    if fitting == 0:
        raise UsageError(f'load_from {path}: none of its {len(state_dict)} entries fits the '
                         f'model ({report.describe()}); nothing trained')
    if converted:
        CheckpointLoader.register_scheme(IN_MEMORY, _serve_converted, force=True)
        _converted[path] = dict(state_dict=state_dict)
        cfg.load_from = IN_MEMORY + path
    print(f'load_from {path}: {how}; {fitting} of the model\'s {len(shapes)} entries load; '
          f'{report.describe()}')
