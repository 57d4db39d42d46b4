"""Converting a released checkpoint into the state dict of one of our models, by rules over
entry names and shapes only (docs/architecture.md, "Checkpoint layouts").

A ``Layout`` is the ordered rules of one published layout: the first rule whose pattern matches
a source name (the whole name) places the tensor under the rule's target (a ``re`` template) or
drops it with the rule's reason. ``plan_conversion`` checks a layout against the names and
shapes of a source and of the target model, so a key list alone (no weights in memory) can be
checked; it refuses, naming the entries, a source entry no rule accounts for, a target the model
lacks, a shape that differs, two entries for one target and model entries left empty.
``apply_plan`` then builds the converted state dict. Task layouts live in the task packages;
the network and classification layouts are here.

Loading a network (``init_cfg``, ``load_checkpoint``, the Predictor, export) is lenient where a
conversion is strict: ``network_state_dict`` renames by the same rules and the model reports
what did not fit (``checkpoint.fit_report``), so a 22k head can meet a 1k model.
"""
import re
from typing import NamedTuple, Optional

# Parameters that belong to a classification head, not the backbone (docs/architecture.md,
# "State-dict names").
HEAD_PREFIXES = ('conv_head.', 'head.', 'dcnv3_head_x4.', 'dcnv3_head_x3.', 'clip_projector.',
                 'fc_norm.')
# Where whole models hold the network: mmdet/mmseg models as `backbone`, our classification
# model (classification.model) as `classifier`.
BACKBONE_PREFIX = 'backbone.'
CLASSIFIER_PREFIX = 'classifier.'


class Rule(NamedTuple):
    """``pattern`` matches a whole source name; ``target`` is its new name (``\\1`` ... refer
    to the pattern's groups), or None to drop the tensor, ``why`` says why."""
    pattern: str
    target: Optional[str]
    why: str = ''


def keep(*prefixes):
    """Rules that keep entries under ``prefixes`` (module names, without the dot) as they are."""
    return tuple(Rule(re.escape(prefix) + r'\..+', r'\g<0>') for prefix in prefixes)


class Layout(NamedTuple):
    """A published layout: its rules, and the prefix of our model's entries that it must fill
    completely ('' for the whole model)."""
    name: str
    rules: tuple
    fills: str = ''


class Plan(NamedTuple):
    """What a conversion does: ``placed`` (source, target) pairs, ``dropped`` (source, why)."""
    layout: Layout
    placed: list
    dropped: list

    def describe(self):
        """One line per dropped entry, then the counts: what the converter prints."""
        lines = [f'dropped {source}: {why}' for source, why in self.dropped]
        renamed = sum(source != target for source, target in self.placed)
        lines.append(f'{self.layout.name}: placed {len(self.placed)} tensors ({renamed} '
                     f'renamed), dropped {len(self.dropped)}')
        return '\n'.join(lines)


class ConversionError(ValueError):
    """A source that the layout does not convert completely into the model."""


def first_rule(layout, name):
    """The rule of ``layout`` that accounts for ``name`` and its match, or (None, None)."""
    for rule in layout.rules:
        match = re.fullmatch(rule.pattern, name)
        if match:
            return rule, match
    return None, None


def _place(layout, source_shapes, target_shapes):
    """The placements and drops of every source entry, and the problems found on the way."""
    placed, dropped, problems = [], [], []
    for name, shape in source_shapes.items():
        rule, match = first_rule(layout, name)
        if rule is None:
            problems.append(f'{name}: no rule of the layout accounts for it')
        elif rule.target is None:
            dropped.append((name, rule.why))
        else:
            target = match.expand(rule.target)
            if target not in target_shapes:
                problems.append(f'{name} -> {target}: the model has no such entry')
            elif tuple(shape) != tuple(target_shapes[target]):
                problems.append(f'{name} -> {target}: shape {tuple(shape)} in the checkpoint, '
                                f'{tuple(target_shapes[target])} in the model')
            else:
                placed.append((name, target))
    return placed, dropped, problems


def _unfilled(layout, placed, target_shapes):
    """Problems with the targets: entries given twice, model entries given none."""
    problems, sources = [], {}
    for source, target in placed:
        if target in sources:
            problems.append(f'{sources[target]} and {source} both map to {target}')
        sources[target] = source
    empty = [k for k in target_shapes if k.startswith(layout.fills) and k not in sources]
    if empty:
        problems.append(f'{len(empty)} entries of the model get no tensor: {empty[:8]}')
    return problems


def plan_conversion(layout, source_shapes, target_shapes):
    """The Plan converting a source with entries ``{name: shape}`` into a model with entries
    ``{name: shape}``; raises ConversionError naming every entry that does not fit."""
    placed, dropped, problems = _place(layout, source_shapes, target_shapes)
    problems += _unfilled(layout, placed, target_shapes)
    if problems:
        shown = '\n  '.join(problems[:20])
        more = f'\n  ... and {len(problems) - 20} more' if len(problems) > 20 else ''
        raise ConversionError(f'layout {layout.name!r} does not convert the checkpoint into '
                              f'the model ({len(problems)} problems):\n  {shown}{more}')
    return Plan(layout, placed, dropped)


def shapes_of(state_dict):
    """``{name: shape}`` of a state dict (what plan_conversion compares)."""
    return {name: tuple(tensor.shape) for name, tensor in state_dict.items()}


def apply_plan(plan, state_dict):
    """The converted state dict: each placed tensor under its target name."""
    return {target: state_dict[source] for source, target in plan.placed}


def rename(layout, state_dict):
    """(renamed state dict, dropped (source, why) pairs) of ``state_dict`` by the rules of
    ``layout`` alone, without a model to check against; an entry no rule accounts for is a
    ConversionError naming it."""
    renamed, dropped = {}, []
    for name, tensor in state_dict.items():
        rule, match = first_rule(layout, name)
        if rule is None:
            raise ConversionError(f'layout {layout.name!r}: no rule accounts for {name}')
        if rule.target is None:
            dropped.append((name, rule.why))
        else:
            renamed[match.expand(rule.target)] = tensor
    return renamed, dropped


def convert_state_dict(layout, state_dict, target_shapes):
    """(converted state dict, Plan) of ``state_dict`` into a model with ``target_shapes``."""
    plan = plan_conversion(layout, shapes_of(state_dict), target_shapes)
    return apply_plan(plan, state_dict), plan


def _network_of(prefix, whole):
    return Layout(f'the network inside {whole} ({prefix}*)',
                  (Rule(re.escape(prefix) + '(.+)', r'\1'),
                   Rule('.+', None, f'not part of the network: the rest of the {whole}')))


# A whole network's own entries, from the three places a checkpoint holds one.
NETWORK_FROM_RELEASE = Layout('InternImage network (a classification release or bare state dict)',
                              (Rule('.+', r'\g<0>'),))
NETWORK_FROM_DENSE_MODEL = _network_of(BACKBONE_PREFIX, 'detector/segmentor')
NETWORK_FROM_CLASSIFICATION_MODEL = _network_of(CLASSIFIER_PREFIX, 'classification model')


def network_layout(source_names):
    """The layout that takes the network out of a checkpoint with entries ``source_names``
    (``module.`` stripped): under ``backbone.``, under ``classifier.``, or the whole of it."""
    for prefix, layout in ((BACKBONE_PREFIX, NETWORK_FROM_DENSE_MODEL),
                           (CLASSIFIER_PREFIX, NETWORK_FROM_CLASSIFICATION_MODEL)):
        if any(name.startswith(prefix) for name in source_names):
            return layout
    return NETWORK_FROM_RELEASE


def network_state_dict(state_dict):
    """(the network's own entries, dropped (source, why) pairs) of a whole model's or bare
    network's ``state_dict``."""
    return rename(network_layout(list(state_dict)), state_dict)


_HEAD_RULES = tuple(Rule(re.escape(prefix) + '.+', None,
                         'classification head: a dense-prediction model has no place for it')
                    for prefix in HEAD_PREFIXES)
# A published classification release ('model' entry): the whole network into our
# classification model, which holds it as `classifier`, or its trunk into a detector's or
# segmentor's `backbone`.
CLASSIFICATION_TO_CLASSIFIER = Layout('InternImage classification release -> classifier',
                                      (Rule('.+', r'classifier.\g<0>'),), fills='classifier.')
CLASSIFICATION_TO_BACKBONE = Layout('InternImage classification release -> backbone',
                                    _HEAD_RULES + (Rule('.+', r'backbone.\g<0>'),),
                                    fills='backbone.')


def is_classification_release(source_names):
    """Whether a released state dict (``module.`` stripped) is a bare network, not a
    detector's or segmentor's (whose entries sit under ``backbone.`` and its heads)."""
    return not any(name.startswith(BACKBONE_PREFIX) for name in source_names)


def layout_for(model_cfg, source_names):
    """The layout that converts a release with ``source_names`` for the classification model
    ``model_cfg``: a classification release fills its ``classifier``."""
    if model_cfg['type'] != 'ImageClassificationModel':
        raise ConversionError(f"no released checkpoint layout for a classification model of "
                              f"type {model_cfg['type']!r}; known: ['ImageClassificationModel']")
    if not is_classification_release(source_names):
        raise ConversionError('a detection/segmentation checkpoint (backbone.* entries) '
                              'cannot be converted for a classification config')
    return CLASSIFICATION_TO_CLASSIFIER
