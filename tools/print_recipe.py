"""Prints the recipe a config will train with, before a long run: the launch (images per GPU x
GPUs), the optimizer with its parameter groups, lr scaling and clipping, the schedule, the train
and test pipelines (and test-time augmentation), the checkpoints it starts from, mixed precision
and EMA:

    python tools/print_recipe.py CONFIG [--cfg-options K=V ...] [--gpus N] [--train-size N]
                                 [--per-parameter]

The parameter groups are those the config's optimizer-wrapper constructor builds, over the
config's model built on the meta device (no weights are read or allocated). The GPU count is not
a config entry: it is taken from --gpus, else from the published launch the config files state
in a comment ("8 GPUs x 2 images") or an OpenMMLab base file's name ("_8xb2-"), else 8; the
output says which. With --train-size (images in the training set) epochs and iterations are
converted into each other."""
import argparse
import ast
import math
import os
import re
import textwrap
import tokenize
from collections import OrderedDict

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, MODELS

from internimage.engine import load_config, task_of
from internimage.engine.launch import add_config_options, exits_on_usage_error, positive_int

DEFAULT_GPUS = 8
GPU_COUNT = re.compile(r'\b(\d+)\s+GPUs?\b')
LAUNCH_IN_FILE_NAME = re.compile(r'[_-](\d+)xb(\d+)[_-]')  # OpenMMLab names: ..._8xb2-12e_...
# keys of optim_wrapper that make the parameter groups; the rest configure the wrapper itself
GROUP_KEYS = ('optimizer', 'constructor', 'paramwise_cfg')
MAX_PATTERNS = 12  # name patterns shown per group without --per-parameter
WIDTH = 100


# -- where the launch is stated ------------------------------------------------------------------

def base_files(path):
    """The files ``path``'s ``_base_`` names, resolved (package configs such as 'mmdet::...'
    through mmengine), in the order given; unresolvable ones are left out."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == '_base_'
                for target in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return []
            bases = [bases] if isinstance(bases, str) else list(bases)
            found = []
            for base in bases:
                try:
                    resolved = Config._get_cfg_path(base, path)[0] if '::' in base else \
                        os.path.join(os.path.dirname(path), base)
                except (ImportError, ValueError, FileNotFoundError):
                    continue
                if os.path.isfile(resolved):
                    found.append(os.path.normpath(resolved))
            return found
    return []


def config_files(path):
    """(file, whether it is an installed package's) of ``path`` and every file it inherits
    from, depth first; the project's files before those of packages (mmdet, mmseg)."""
    ours, packages, seen = [], [], set()

    def visit(file, in_package):
        if file in seen:
            return
        seen.add(file)
        (packages if in_package else ours).append((file, in_package))
        for base in base_files(file):
            visit(base, in_package or 'site-packages' in base)

    visit(os.path.normpath(path), False)
    return ours + packages


def comments(path):
    """(line number, text) of the comments of a Python file."""
    with open(path, 'rb') as f:
        return [(token.start[0], token.string.lstrip('#').strip())
                for token in tokenize.tokenize(f.readline) if token.type == tokenize.COMMENT]


PACKAGE_CONFIG = re.compile(r'[/\\](\w+)[/\\](?:\.mim[/\\])?configs[/\\](.+)$')


def display_path(path):
    """A config file as a config names it: relative to the working directory, or
    'mmdet::dino/...' for a config of an installed package."""
    relative = os.path.relpath(path)
    if not relative.startswith('..'):
        return relative
    match = PACKAGE_CONFIG.search(path)
    return f'{match.group(1)}::{match.group(2)}' if match else path


def stated_gpus(path):
    """(GPU count, where it is stated) from the comments of the config and its bases, or an
    OpenMMLab base file name; None when no file states one. A count only an inherited
    package config states is that base recipe's launch, and is said to be."""
    for file, in_package in config_files(path):
        found = None
        for line, text in comments(file):
            match = GPU_COUNT.search(text)
            if match:
                found = int(match.group(1)), f'{display_path(file)}:{line}: "{text}"'
                break
        match = LAUNCH_IN_FILE_NAME.search(os.path.basename(file))
        if found is None and match:
            found = int(match.group(1)), f'the name of {display_path(file)}'
        if found and in_package:
            return found[0], f'{found[1]}; the launch of the inherited package recipe, as ' \
                             'no file of this project states one'
        if found:
            return found
    return None


# -- the parameter groups ------------------------------------------------------------------------

def group_wrapper_cfg(optim_wrapper):
    """The optim_wrapper config reduced to what makes the parameter groups, as a plain
    OptimWrapper: the AMP and sharding wrappers need a GPU or a process group to be built and
    do not change the groups."""
    return dict(type='OptimWrapper', **{key: optim_wrapper[key] for key in GROUP_KEYS
                                        if key in optim_wrapper})


def parameter_kind(model, name):
    """'<module class>.<parameter>' of parameter ``name``, e.g. 'LayerNorm.weight'."""
    owner, _, leaf = name.rpartition('.')
    module = model.get_submodule(owner) if owner else model
    return f'{type(module).__name__}.{leaf}'


def key_of(value):
    return float(f'{value:.10g}')


def build_parameter_groups(cfg):
    """([per parameter dict(name, shape, numel, kind, lr, weight_decay)] in the model's
    order, the names of parameters in no group), with the config's model built on the meta
    device and its optim wrapper's constructor."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')), torch.device('meta'):
        model = MODELS.build(cfg.model)
        optimizer = build_optim_wrapper(model, group_wrapper_cfg(cfg.optim_wrapper)).optimizer
    names = {id(param): name for name, param in model.named_parameters()}
    settings = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            settings[names[id(param)]] = (group['lr'], group['weight_decay'])
    rows, untrained = [], []
    for name, param in model.named_parameters():
        if name not in settings:
            untrained.append(name)
            continue
        lr, decay = settings[name]
        rows.append(dict(name=name, shape=tuple(param.shape), numel=param.numel(),
                         kind=parameter_kind(model, name), lr=lr, weight_decay=decay))
    return rows, untrained


def multiplier(value, base):
    return key_of(value / base) if base else None


def summarise(rows, base_lr, base_decay):
    """The groups of parameters with equal (lr multiplier, weight-decay multiplier), largest
    multipliers first: [dict(lr_mult, wd_mult, lr, weight_decay, count, numel, names)]."""
    groups = OrderedDict()
    for row in rows:
        key = (multiplier(row['lr'], base_lr), multiplier(row['weight_decay'], base_decay),
               key_of(row['lr']), key_of(row['weight_decay']))
        group = groups.setdefault(key, dict(lr_mult=key[0], wd_mult=key[1], lr=row['lr'],
                                            weight_decay=row['weight_decay'], count=0,
                                            numel=0, names=[]))
        group['count'] += 1
        group['numel'] += row['numel']
        group['names'].append(row['name'])
    return sorted(groups.values(), key=lambda g: (-g['lr'], -g['weight_decay']))


class Node:
    """A module path of the parameter-name tree: its children by name, or a parameter."""

    def __init__(self):
        self.children = OrderedDict()
        self.kind = None  # a parameter's kind

    def add(self, parts, kind):
        node = self
        for part in parts:
            node = node.children.setdefault(part, Node())
        node.kind = kind


def name_tree(rows):
    root = Node()
    for row in rows:
        root.add(row['name'].split('.'), row['kind'])
    return root


def describe_node(node, kinds_of, top=False):
    """Patterns (path parts, kinds or None, is a parameter) that cover exactly the chosen
    parameters below ``node``; ``kinds_of(node)`` gives (kind, chosen) of every parameter below
    it. At the ``top`` (the model) each child is described on its own."""
    below = kinds_of(node)
    picked = [kind for kind, inside in below if inside]
    if not picked:
        return []
    if not top and len(picked) == len(below):
        return [((), None, not node.children)]
    if not top and len(picked) == 1:  # a single parameter: its name
        for part, child in node.children.items():
            found = describe_node(child, kinds_of)
            if found:
                return [((part,) + path, kinds, leaf) for path, kinds, leaf in found]
    kinds = set(picked)
    if not top and all(inside for kind, inside in below if kind in kinds):
        return [((), frozenset(kinds), False)]
    patterns, run = [], None  # run: [first index, last index, patterns] of numeric children

    def close_run():
        if run is not None:
            label = str(run[0]) if run[0] == run[1] else f'{run[0]}-{run[1]}'
            patterns.extend(((label,) + path, kinds, leaf) for path, kinds, leaf in run[2])

    for part, child in node.children.items():
        found = describe_node(child, kinds_of)
        if not found:
            continue
        if part.isdigit() and run is not None and int(part) == run[1] + 1 and found == run[2]:
            run[1] = int(part)
            continue
        close_run()
        if part.isdigit():
            run = [int(part), int(part), found]
        else:
            run = None
            patterns.extend(((part,) + path, kinds, leaf) for path, kinds, leaf in found)
    close_run()
    return patterns


def describe_names(tree, names):
    """Compact patterns of the parameter ``names`` among all of the tree's, by module path:
    'decode_head.*' (everything below), 'backbone.levels.2.blocks.0-21.*' (an index range),
    'backbone.* [LayerNorm.weight, Linear.bias]' (only these kinds there), or a name."""
    chosen = set(names)
    below = {}

    def index(node, prefix):
        if not node.children:
            below[id(node)] = [(node.kind, prefix in chosen)]
        else:
            below[id(node)] = [entry for part, child in node.children.items()
                               for entry in index(child, f'{prefix}.{part}' if prefix else part)]
        return below[id(node)]

    index(tree, '')
    patterns = describe_node(tree, lambda node: below[id(node)], top=True)
    return [render(path, kinds, leaf) for path, kinds, leaf in patterns]


def render(path, kinds, leaf):
    text = '.'.join(path) if leaf else '.'.join(path + ('*',))
    return text if kinds is None else f'{text} [{", ".join(sorted(kinds))}]'


# -- formatting ----------------------------------------------------------------------------------

def number(value):
    """A float as Python writes it when that is short (2.0, 6e-05), else to 6 digits."""
    if not isinstance(value, float):
        return repr(value)
    return repr(value) if len(repr(value)) <= 8 else f'{value:.6g}'


def settings_text(cfg, skip=('type',)):
    """'key=value, ...' of a config dict, without ``skip``, registry scopes and None
    backend_args."""
    parts = []
    for key, value in cfg.items():
        if key in skip or key == '_scope_' or (key == 'backend_args' and value is None):
            continue
        parts.append(f'{key}={plain(value)}')
    return ', '.join(parts)


def plain(value):
    """A config value as Python literals (ConfigDict and tuples printed plainly)."""
    if isinstance(value, dict):
        return '{' + ', '.join(f'{k}: {plain(v)}' for k, v in value.items()) + '}'
    if isinstance(value, list):
        return '[' + ', '.join(plain(v) for v in value) + ']'
    if isinstance(value, tuple):
        return '(' + ', '.join(plain(v) for v in value) + (',)' if len(value) == 1 else ')')
    if isinstance(value, float):
        return number(value)
    return repr(value)


def wrapped(text, indent, hanging=None):
    return textwrap.wrap(text, WIDTH, initial_indent=' ' * indent,
                         subsequent_indent=' ' * (indent + 4 if hanging is None else hanging),
                         break_long_words=False, break_on_hyphens=False) or [' ' * indent]


def field(label, text):
    """A labelled line (label in a 13-character column), wrapped."""
    return wrapped(f'{label:<13}{text}', 0, 13)


def transform_lines(transform, indent):
    """One transform with its settings; the nested transform lists of RandomChoice,
    TestTimeAug and the like each under their index."""
    if not isinstance(transform, dict):
        return wrapped(plain(transform), indent)
    nested = transform.get('transforms')
    skip = ('type', 'transforms') if isinstance(nested, list) else ('type',)
    settings = settings_text(transform, skip)
    lines = wrapped(f'{transform.get("type", "?")}' + (f'  {settings}' if settings else ''),
                    indent)
    if isinstance(nested, list):
        for i, entry in enumerate(nested):
            lines.append(' ' * (indent + 2) + f'transforms[{i}]:')
            for item in entry if isinstance(entry, list) else [entry]:
                lines.extend(transform_lines(item, indent + 4))
    return lines


def find_pipelines(dataset, where='dataset'):
    """[(where, dataset type, pipeline or timm transform kwargs)] of a dataset config,
    through dataset wrappers (RepeatDataset, ConcatDataset, ...)."""
    if not isinstance(dataset, dict):
        return []
    if 'pipeline' in dataset or 'transform' in dataset:
        return [(where, dataset.get('type'), dataset.get('pipeline', dataset.get('transform')))]
    if isinstance(dataset.get('dataset'), dict):
        return find_pipelines(dataset['dataset'], f'{where}.dataset')
    found = []
    for i, inner in enumerate(dataset.get('datasets') or []):
        found.extend(find_pipelines(inner, f'{where}.datasets.{i}'))
    return found


def timm_transform_lines(kwargs, is_training, indent):
    """timm's create_transform(**kwargs) as the classification data sets build it: the
    keyword arguments, then the transforms it makes."""
    from timm.data import create_transform
    lines = wrapped(f'timm create_transform  {settings_text(kwargs, ())}, '
                    f'is_training={is_training}', indent)
    built = create_transform(**dict(kwargs), is_training=is_training)
    for step in getattr(built, 'transforms', [built]):
        text = repr(step).splitlines()
        if len(text) > 1:  # e.g. RandAugment lists its operations on further lines
            text = [text[0].rstrip().rstrip('(').rstrip('=').rsplit(',', 1)[0] + ', ...)']
        lines.extend(wrapped(text[0], indent + 2))
    return lines


def pipeline_lines(title, dataloader, is_training):
    if not dataloader:
        return [f'{title}: none']
    lines = []
    for where, kind, pipeline in find_pipelines(dataloader.get('dataset')):
        lines.append(f'{title} ({kind}, {where}):')
        if isinstance(pipeline, dict):  # classification: timm create_transform kwargs
            lines.extend(timm_transform_lines(pipeline, is_training, 2))
        else:
            for transform in pipeline or []:
                lines.extend(transform_lines(transform, 2))
    return lines or [f'{title}: no pipeline found in {title.split()[0]}_dataloader.dataset']


# -- the sections --------------------------------------------------------------------------------

def launch(cfg, args):
    """dict(batch, gpus, gpus_source, total, accumulate)."""
    batch = cfg.train_dataloader.batch_size
    if args.gpus:
        gpus, source = args.gpus, 'given with --gpus'
    else:
        stated = stated_gpus(args.config)
        if stated:
            gpus, source = stated[0], f'stated in {stated[1]}'
        else:
            gpus, source = DEFAULT_GPUS, f'no config file states a GPU count; {DEFAULT_GPUS} ' \
                                         'assumed'
    accumulate = cfg.optim_wrapper.get('accumulative_counts', 1)
    return dict(batch=batch, gpus=gpus, gpus_source=source, total=batch * gpus * accumulate,
                accumulate=accumulate)


def launch_section(run):
    per_step = f' x {run["accumulate"]} accumulated steps' if run['accumulate'] > 1 else ''
    return ['== launch',
            *field('batch', f'{run["batch"]} per GPU x {run["gpus"]} GPUs{per_step} = '
                            f'{run["total"]} images per optimizer step'),
            *field('GPUs', f'{run["gpus"]}: {run["gpus_source"]}' +
                   ('' if run['gpus_source'].endswith('--gpus') else ' (set with --gpus N)'))]


def lr_scaling(cfg, total):
    """(the lr the runner trains at, a sentence on auto_scale_lr)."""
    lr = cfg.optim_wrapper.optimizer.lr
    scaling = cfg.get('auto_scale_lr')
    if not scaling:
        return lr, 'auto_scale_lr not set: the lr is used as given, whatever the total batch'
    base = scaling.get('base_batch_size')
    if not scaling.get('enable', False):
        note = '' if base == total else \
            f' (the lr is meant for {base} images; this launch takes {total})'
        return lr, f'auto_scale_lr off (base_batch_size {base}): the lr is used as given{note}'
    effective = lr * total / base
    return effective, (f'auto_scale_lr on: lr {number(lr)} x {total} / {base} (total / '
                       f'base_batch_size) = {number(effective)}')


def optimizer_section(cfg, run):
    wrapper = cfg.optim_wrapper
    optimizer = wrapper.optimizer
    effective, scaling = lr_scaling(cfg, run['total'])
    kind = wrapper.get('type', 'OptimWrapper')
    own = {k: v for k, v in wrapper.items()
           if k not in GROUP_KEYS + ('type', 'clip_grad', 'accumulative_counts')}
    precision = {'AmpOptimWrapper': 'automatic mixed precision (autocast; needs a GPU)',
                 'BF16AutocastOptimWrapper': 'bfloat16 autocast',
                 'ShardedOptimWrapper': 'FSDP: clips by the norm of the whole gradient',
                 'OptimWrapper': 'float32 (tools/train.py --amp changes it)'}.get(kind, '')
    clip = wrapper.get('clip_grad')
    constructor = wrapper.get('constructor', 'DefaultOptimWrapperConstructor')
    paramwise = wrapper.get('paramwise_cfg')
    lines = ['== optimizer',
             *field('wrapper', f'{kind}' + (f' ({settings_text(own, ())})' if own else '') +
                    (f': {precision}' if precision else '')),
             *field('optimizer', f'{optimizer.type}  {settings_text(optimizer)}'),
             *field('lr', scaling),
             *field('clipping', f'{clip.get("type", "norm")} {settings_text(clip)}'
                    if clip else 'none'),
             *field('constructor', constructor + (f'  {settings_text(paramwise, ())}'
                                                   if paramwise else ''))]
    if cfg.get('model_wrapper_cfg'):
        lines += field('model wrap', plain(cfg.model_wrapper_cfg))
    if cfg.get('runner_type'):
        lines += field('runner', f'{cfg.runner_type}, strategy '
                                 f'{plain(cfg.get("strategy"))}')
    return lines, effective


def pattern_lines(patterns, per_parameter):
    shown = patterns if per_parameter else patterns[:MAX_PATTERNS]
    lines = [line for pattern in shown for line in wrapped(pattern, 6, 10)]
    if len(shown) < len(patterns):
        lines.append(f'      ... {len(patterns) - len(shown)} more (--per-parameter shows all)')
    return lines


def text_or_dash(value):
    return '-' if value is None else number(value)


def groups_section(cfg, groups, untrained, effective_lr, rows, per_parameter):
    """The (lr multiplier, weight-decay multiplier) table, the names at each lr multiplier
    and at each weight-decay multiplier; records the patterns in ``groups`` and returns
    (lines, {lr multiplier: patterns}, {wd multiplier: patterns})."""
    optimizer = cfg.optim_wrapper.optimizer
    base_lr, base_decay = optimizer.lr, optimizer.get('weight_decay', 0.0)
    scale = effective_lr / base_lr if base_lr else 1.0
    tree = name_tree(rows)
    lines = [f"== parameter groups: lr and weight decay as multiples of the optimizer's lr "
             f'{number(base_lr)} and weight_decay {number(base_decay)}',
             '   names: a-b an index range, * all below, [kinds] only parameters of these '
             'module.parameter kinds there',
             f'{"lr x":>10} {"lr":>11} {"wd x":>6} {"wd":>8} {"tensors":>8} {"elements":>12}']
    by_lr, by_wd = OrderedDict(), OrderedDict()
    for group in groups:
        group['patterns'] = describe_names(tree, group['names'])
        by_lr.setdefault(group['lr_mult'], []).append(group)
        by_wd.setdefault(group['wd_mult'], []).append(group)
    lr_patterns, wd_patterns = {}, {}
    for lr_mult, members in by_lr.items():
        for group in members:
            lines.append(f'{text_or_dash(lr_mult):>10} {number(group["lr"] * scale):>11} '
                         f'{text_or_dash(group["wd_mult"]):>6} '
                         f'{number(group["weight_decay"]):>8} {group["count"]:>8} '
                         f'{group["numel"]:>12,}')
        lr_patterns[lr_mult] = describe_names(tree, [name for group in members
                                                     for name in group['names']])
        lines.extend(pattern_lines(lr_patterns[lr_mult], per_parameter))
    total = sum(group['count'] for group in groups)
    lines.append(f'{total} parameter tensors in {len(groups)} groups' +
                 (f'; not trained (in no group): {", ".join(untrained)}' if untrained else ''))
    lines.append('weight decay, over all lr multipliers:')
    for wd_mult, members in sorted(by_wd.items(), key=lambda item: -(item[0] or 0)):
        names = [name for group in members for name in group['names']]
        lines.append(f'  wd x {text_or_dash(wd_mult)} ({number(members[0]["weight_decay"])}): '
                     f'{len(names)} tensors')
        wd_patterns[wd_mult] = describe_names(tree, names)
        lines.extend(pattern_lines(wd_patterns[wd_mult], per_parameter))
    if per_parameter:
        lines.append('every parameter: name, shape, lr x, wd x')
        for row in rows:
            lines.append(f'  {row["name"]}  {tuple(row["shape"])}  '
                         f'{text_or_dash(multiplier(row["lr"], base_lr))}  '
                         f'{text_or_dash(multiplier(row["weight_decay"], base_decay))}')
    return lines, lr_patterns, wd_patterns


def scheduler_lines(scheduler):
    scheduler = dict(scheduler)
    by_epoch = scheduler.get('by_epoch', True)
    unit = 'epochs' if by_epoch else 'iterations'
    begin, end = scheduler.get('begin', 0), scheduler.get('end')
    span = f'{unit} {begin}-{end if end is not None and end < 1e9 else "end"}'
    stepped = ', stepped every iteration' if by_epoch and scheduler.get(
        'convert_to_iter_based') else ''
    settings = settings_text(scheduler, ('type', 'by_epoch', 'begin', 'end',
                                         'convert_to_iter_based'))
    return wrapped(f'{scheduler.get("type")}  {span}{stepped}' +
                   (f'  {settings}' if settings else ''), 2)


def schedule_section(cfg, run, train_size):
    train = cfg.get('train_cfg') or {}
    loop = train.get('type') or ('EpochBasedTrainLoop' if train.get('by_epoch', True)
                                 else 'IterBasedTrainLoop')
    summary = dict(loop=loop)
    total = run['total']
    if 'max_iters' in train:
        iters = train['max_iters']
        text = f'{loop}: {iters} iterations ({iters * total:,} images at {total} per step)'
        if train_size:
            text += f' = {iters * total / train_size:.4g} epochs of {train_size:,} images'
        interval = f'validation every {train.get("val_interval")} iterations'
        summary.update(max_iters=iters)
    else:
        epochs = train.get('max_epochs')
        drop_last = (cfg.train_dataloader or {}).get('drop_last', False)
        if train_size:
            per_epoch = train_size // total if drop_last else math.ceil(train_size / total)
            text = f'{loop}: {epochs} epochs x {per_epoch} iterations ({train_size:,} images / ' \
                   f'{total} per step) = {epochs * per_epoch} iterations'
            summary.update(max_iters=epochs * per_epoch)
        else:
            text = f'{loop}: {epochs} epochs; iterations per epoch: training images / {total} ' \
                   '(give --train-size N to convert)'
        interval = f'validation every {train.get("val_interval")} epochs'
        summary.update(max_epochs=epochs)
    lines = ['== schedule', *field('train loop', text), *field('', interval),
             'param_scheduler (begin-end in the unit it counts; the last step is end - 1):']
    schedulers = cfg.get('param_scheduler') or []
    for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
        lines.extend(scheduler_lines(scheduler))
    if not schedulers:
        lines.append('  none: constant lr')
    return lines, summary


TRUNK_KEYS = ('arch', 'drop_path_rate', 'layer_scale', 'with_cp', 'num_classes')


def inner_model(model):
    """The model config, or the one a wrapper (test-time augmentation) holds as ``module``."""
    return model.module if 'module' in model and 'backbone' not in model else model


def model_lines(cfg):
    """The model's type, its trunk's main settings, and the heads' types."""
    model = inner_model(cfg.model)
    text = str(model.get('type'))
    for key in ('backbone', 'classifier'):
        part = model.get(key)
        if isinstance(part, dict):
            settings = ', '.join(f'{k}={plain(part[k])}' for k in TRUNK_KEYS if k in part)
            text += f'; {key} {part.get("type")}' + (f' {settings}' if settings else '')
    heads = [f'{key} {value.get("type")}' for key, value in model.items()
             if key.endswith(('head', 'neck')) and isinstance(value, dict)]
    return field('model', text + ''.join(f'; {head}' for head in heads))


def data_section(cfg, run):
    sampler = (cfg.train_dataloader.get('sampler') or {}).get('type')
    lines = ['== data',
             *field('train', f'{run["batch"]} image{"s" if run["batch"] != 1 else ""} per '
                    f'GPU, {sampler} sampler, '
                    f'{cfg.train_dataloader.get("num_workers")} workers'),
             *pipeline_lines('train pipeline', cfg.get('train_dataloader'), True)]
    model = inner_model(cfg.model)
    if model.get('mixup'):
        lines += field('batch mixing', f'model.mixup: {settings_text(model.mixup, ())}')
    elif 'mixup' in model:
        lines += field('batch mixing', 'none (model.mixup=None)')
    if 'label_smoothing' in model:
        lines += field('loss', f'label_smoothing={plain(model.label_smoothing)}')
    preprocessor = model.get('data_preprocessor')
    if preprocessor:
        lines += field('preprocessor', f'{preprocessor.get("type")}  '
                                       f'{settings_text(preprocessor)}')
    lines += pipeline_lines('test pipeline', cfg.get('test_dataloader'), False)
    if model.get('test_cfg'):
        lines += field('model test', f'test_cfg {plain(model.test_cfg)}')
    if cfg.get('tta_model') or cfg.get('tta_pipeline'):
        tta_model = cfg.get('tta_model') or {}
        lines.append(f'TTA (tools/test.py --tta): {tta_model.get("type")}  '
                     f'{settings_text(tta_model)}'.rstrip())
        for transform in cfg.get('tta_pipeline') or []:
            lines.extend(transform_lines(transform, 2))
    else:
        lines.append('TTA: none')
    return lines


def pretrained_inits(node, path='model'):
    """[(path, init_cfg)] of every init_cfg of type Pretrained in a model config."""
    found = []
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained' and 'init_cfg' in path.split('.'):
            found.append((path, node))
        for key, value in node.items():
            found.extend(pretrained_inits(value, f'{path}.{key}'))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found.extend(pretrained_inits(value, f'{path}.{i}'))
    return found


def legacy_pretrained(node, path='model'):
    """[(path, value)] of the old-style ``pretrained=...`` entries that are set."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'pretrained' and isinstance(value, str):
                found.append((f'{path}.{key}', value))
            else:
                found.extend(legacy_pretrained(value, f'{path}.{key}'))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found.extend(legacy_pretrained(value, f'{path}.{i}'))
    return found


def exists_note(path):
    return '' if os.path.isfile(path) else ' (not found here)'


def start_section(cfg):
    load_from = cfg.get('load_from')
    lines = ['== starting point',
             *field('load_from', f'{load_from}{exists_note(load_from)}' if load_from else
                    'none'),
             *field('resume', str(cfg.get('resume', False)))]
    inits = pretrained_inits(cfg.model)
    for path, init in inits:
        extra = settings_text(init, ('type', 'checkpoint'))
        lines += field('init_cfg', f'{path}: Pretrained {init.get("checkpoint")}'
                       f'{exists_note(str(init.get("checkpoint")))}' +
                       (f' ({extra})' if extra else ''))
    for path, value in legacy_pretrained(cfg.model):
        lines += field('pretrained', f'{path}: {value}{exists_note(value)}')
    if not inits and not legacy_pretrained(cfg.model):
        lines += field('init_cfg', 'no Pretrained init_cfg: the model starts from its '
                                   'initialisation' + (' (then load_from)' if load_from else ''))
    hooks = cfg.get('custom_hooks') or []
    ema = [hook for hook in hooks if 'EMA' in str(hook.get('type', ''))]
    for hook in ema:
        lines += field('EMA', f'{hook.type}  {settings_text(hook)}')
    if not ema:
        lines += field('EMA', 'none')
    for hook in hooks:
        if hook not in ema:
            lines += field('custom hook', f'{hook.get("type")}  {settings_text(hook)}')
    return lines, dict(load_from=load_from, init_checkpoints=[
        (path, init.get('checkpoint')) for path, init in inits])


# -- the tool ------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    add_config_options(parser)
    parser.add_argument('--gpus', type=positive_int,
                        help='GPUs of the launch (default: the count the config states, else '
                             f'{DEFAULT_GPUS})')
    parser.add_argument('--train-size', type=positive_int, metavar='N',
                        help='images in the training set, to convert epochs and iterations')
    parser.add_argument('--per-parameter', action='store_true',
                        help="list every parameter with its group's multipliers")
    return parser.parse_args(argv)


@exits_on_usage_error
def main(argv=None):
    """Prints the recipe; returns it as a dict (for tests): launch, lr, groups, schedule,
    start and the printed lines."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    task = task_of(cfg)
    run = launch(cfg, args)
    optimizer_lines, effective_lr = optimizer_section(cfg, run)
    rows, untrained = build_parameter_groups(cfg)
    optimizer = cfg.optim_wrapper.optimizer
    groups = summarise(rows, optimizer.lr, optimizer.get('weight_decay', 0.0))
    group_lines, lr_patterns, wd_patterns = groups_section(cfg, groups, untrained, effective_lr,
                                                           rows, args.per_parameter)
    schedule_lines, schedule = schedule_section(cfg, run, args.train_size)
    start_lines, start = start_section(cfg)
    lines = [*field('config', args.config),
             *field('task', f'{task.name} (default_scope {cfg.get("default_scope")!r})'),
             *model_lines(cfg),
             *launch_section(run), *optimizer_lines, *group_lines, *schedule_lines,
             *data_section(cfg, run), *start_lines]
    print('\n'.join(lines))
    return dict(task=task.name, launch=run, lr=effective_lr, groups=groups,
                lr_patterns=lr_patterns, wd_patterns=wd_patterns, untrained=untrained,
                schedule=schedule, start=start, lines=lines)


if __name__ == '__main__':
    main()
