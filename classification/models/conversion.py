"""Converting a released checkpoint into the state dict of one of our models, by rules over
entry names and shapes only (docs/architecture.md, "Checkpoint layouts").

A ``Layout`` is the ordered rules of one published layout: the first rule whose pattern matches
a source name (the whole name) places the tensor under the rule's target (a ``re`` template) or
drops it with the rule's reason. ``plan_conversion`` checks a layout against the names and
shapes of a source and of the target model, so a key list alone (no weights in memory) can be
checked; it refuses, naming the entries, a source entry no rule accounts for, a target the model
lacks, a shape that differs, two entries for one target and model entries left empty.
``apply_plan`` then builds the converted state dict. Task layouts live in the task packages;
the classification layouts are here.
"""
import re
from typing import NamedTuple, Optional

from .checkpoint import HEAD_PREFIXES


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


def convert_state_dict(layout, state_dict, target_shapes):
    """(converted state dict, Plan) of ``state_dict`` into a model with ``target_shapes``."""
    plan = plan_conversion(layout, shapes_of(state_dict), target_shapes)
    return apply_plan(plan, state_dict), plan


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
    return not any(name.startswith('backbone.') for name in source_names)


def layout_for(model_cfg, source_names):
    """The layout of a classification release for our classification model."""
    if not is_classification_release(source_names):
        raise ConversionError('a detection/segmentation checkpoint (backbone.* entries) '
                              'cannot be converted for a classification config')
    return CLASSIFICATION_TO_CLASSIFIER
