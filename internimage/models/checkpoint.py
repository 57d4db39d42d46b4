"""Reading InternImage checkpoints, and loading the network inside one into a model
(docs/architecture.md, "Checkpoint layouts"): the one reading path of every entry point.

``read_checkpoint`` verifies the file and unpickles it weights-only (``weights_only``);
``released_state_dict`` finds the state dict of any published layout (classification releases
``{'model': sd, 'model_ema': sd, ...}``, detection/segmentation ones ``{'state_dict': sd,
'meta': ...}``, ``module.`` prefixes); the names are then mapped by the rules of ``conversion``.
Every layout loads into both the backbone and the classifier: a backbone skips the
classification head, and what did not fit is reported, never hidden.
"""
import logging
import os
from typing import NamedTuple

import torch
from mmengine.logging import print_log

from .conversion import (CLASSIFICATION_TO_BACKBONE, CLASSIFICATION_TO_CLASSIFIER, HEAD_PREFIXES,
                         network_state_dict, rename)
from .weights_only import load_weights_only

WRAPPER_PREFIX = 'module.'
STATE_DICT_KEYS = ('state_dict', 'model')
BATCH_NORM_COUNTER = 'num_batches_tracked'


def read_checkpoint(path, mmap=False):
    """The checkpoint at ``path``, verified and loaded on the CPU with weights-only unpickling
    (plus the metadata types that ``weights_only`` allows); ``mmap`` maps the tensors instead
    of reading them. Raises FileNotFoundError, DamagedCheckpointError or UnsafeCheckpointError
    naming the file."""
    return load_weights_only(path, mmap=mmap)


def _strip(state_dict, prefix):
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state_dict.items()}


def released_state_dict(checkpoint, use_ema=False):
    """The whole model's state dict inside any published checkpoint layout (``state_dict`` or
    ``model``, or ``model_ema`` with ``use_ema``), with ``module.`` stripped."""
    if use_ema:
        if 'model_ema' not in checkpoint:
            raise KeyError(f"use_ema=True but the checkpoint has no 'model_ema' entry "
                           f'(it has {sorted(checkpoint)})')
        state_dict = checkpoint['model_ema']
    else:
        state_dict = next((checkpoint[k] for k in STATE_DICT_KEYS if k in checkpoint), checkpoint)
    not_tensors = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ValueError(f'no state dict found in the checkpoint: expected one of '
                         f'{STATE_DICT_KEYS} or a plain state dict, got non-tensor entries '
                         f'{not_tensors[:5]}')
    return _strip(state_dict, WRAPPER_PREFIX)


def extract_state_dict(checkpoint, use_ema=False, logger='current'):
    """The InternImage network's state dict inside any published checkpoint layout (or ours),
    by the network layouts of ``conversion``: from a detector, segmentor or our classification
    model only the network's entries are kept. ``use_ema='prefer'`` is the published
    FlashInternImage backbone's order: ``state_dict``, else ``model_ema`` when there is one (said
    in the log), else ``model``."""
    if use_ema == 'prefer':
        use_ema = 'state_dict' not in checkpoint and 'model_ema' in checkpoint
        if use_ema:
            print_log('InternImage checkpoint: loading its EMA weights (model_ema), as the '
                      'published FlashInternImage backbone did', logger)
    state_dict, dropped = network_state_dict(released_state_dict(checkpoint, use_ema))
    if dropped:
        print_log(f'InternImage checkpoint: kept the network, left out {len(dropped)} entries '
                  f'({dropped[0][1]}, e.g. {dropped[0][0]})', logger)
    return state_dict


def read_class_indices(path):
    """A class index list, one integer per line (the format of the published map22kto1k.txt)."""
    with open(path) as f:
        return [int(line) for line in f if line.strip()]


def map_22k_to_1k(state_dict, class_indices):
    """A copy of ``state_dict`` whose ``head`` keeps only the rows in ``class_indices`` (a list or
    a file of them): an ImageNet-22k head becomes a 1k head without training."""
    if isinstance(class_indices, (str, os.PathLike)):
        class_indices = read_class_indices(class_indices)
    if 'head.weight' not in state_dict:
        raise KeyError('map_22k_to_1k: the state dict has no head.weight')
    num_classes = state_dict['head.weight'].shape[0]
    index = torch.as_tensor(class_indices, dtype=torch.long)
    if index.ndim != 1 or index.numel() == 0 or index.min() < 0 or index.max() >= num_classes:
        raise ValueError(f'map_22k_to_1k: class indices must be a non-empty list within '
                         f'[0, {num_classes}), the rows of the head')
    mapped = dict(state_dict)
    for key in ('head.weight', 'head.bias'):
        if key in state_dict:
            mapped[key] = state_dict[key][index]
    return mapped


class LoadReport(NamedTuple):
    """What did not load: ``missing`` (model keys without a value), ``unexpected`` (checkpoint
    keys the model lacks), ``mismatched`` ((key, checkpoint shape, model shape) of entries
    skipped for their shape) and ``ignored``
    (classification head keys a backbone has no place for: skipped on purpose)."""
    missing: list
    unexpected: list
    mismatched: list
    ignored: list

    @property
    def clean(self):
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self):
        parts = [f'{name} keys ({len(keys)}): {keys}'
                 for name, keys in (('missing', self.missing), ('unexpected', self.unexpected),
                                    ('shape-mismatched', self.mismatched))
                 if keys]
        if self.ignored:
            parts.append(f'classification head keys ignored by the backbone: {len(self.ignored)}')
        return '; '.join(parts) if parts else 'all keys matched'


def fit_report(own_shapes, state_dict):
    """The LoadReport of ``state_dict`` for a model whose state dict has ``own_shapes``
    (``{name: shape}``), computed without loading: tools check a checkpoint before use."""
    ignored = [k for k in state_dict if k not in own_shapes and k.startswith(HEAD_PREFIXES)]
    mismatched = [(k, tuple(v.shape), tuple(own_shapes[k])) for k, v in state_dict.items()
                  if k in own_shapes and tuple(v.shape) != tuple(own_shapes[k])]
    # a BatchNorm step counter is not a weight: torch fills in a missing one itself
    missing = [k for k in own_shapes
               if k not in state_dict and not k.endswith(BATCH_NORM_COUNTER)]
    unexpected = [k for k in state_dict if k not in own_shapes and k not in ignored]
    return LoadReport(missing, unexpected, mismatched, ignored)


def load_state_dict_into(model, state_dict, strict=False, logger='current', source=None):
    """Loads what fits, logs and returns a LoadReport; ``strict`` raises instead when anything
    is missing, unexpected or mismatched. A state dict of which nothing fits (``source``: the
    file it came from, for the message) is refused: the model would keep random weights."""
    report = fit_report({k: v.shape for k, v in model.state_dict().items()}, state_dict)
    skipped = set(report.ignored) | {k for k, _, _ in report.mismatched}
    fitting = {k: v for k, v in state_dict.items() if k not in skipped and
               k not in report.unexpected}
    message = f'InternImage checkpoint into {type(model).__name__}: {report.describe()}'
    if not fitting:
        raise ValueError(f'{source or "checkpoint"}: none of its {len(state_dict)} entries fits '
                         f'{type(model).__name__}; {report.describe()}')
    model.load_state_dict(fitting, strict=False)
    if strict and not report.clean:
        raise RuntimeError(message)
    print_log(message, logger, level=logging.INFO if report.clean else logging.WARNING)
    return report


def load_checkpoint(model, path, strict=False, use_ema=False, class_indices=None,
                    logger='current'):
    """Loads a published (or our) checkpoint file into ``model``; ``class_indices`` maps a 22k
    head to 1k first. Returns the LoadReport."""
    state_dict = extract_state_dict(read_checkpoint(path), use_ema, logger)
    if class_indices is not None:
        state_dict = map_22k_to_1k(state_dict, class_indices)
    return load_state_dict_into(model, state_dict, strict, logger, source=path)


def mm_checkpoint(state_dict, to='backbone'):
    """A checkpoint that mmengine's ``load_from`` (and our loader) accepts: ``to='backbone'``
    keeps the backbone under ``backbone.`` for mmdet/mmseg models, ``to='classifier'`` the
    whole network, head included, under ``classifier.`` for our classification model."""
    layouts = {'backbone': CLASSIFICATION_TO_BACKBONE, 'classifier': CLASSIFICATION_TO_CLASSIFIER}
    if to not in layouts:
        raise ValueError(f"to must be 'backbone' or 'classifier', got '{to}'")
    weights, _ = rename(layouts[to], state_dict)
    return {'state_dict': weights, 'meta': {}}
