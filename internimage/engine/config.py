"""Reading a config with its command-line overrides: the one checked way every tool loads a
config (train, test, get_flops, image_demo, export, extract_features, convert_checkpoint).

mmengine adds any ``--cfg-options`` key it is given, so a typo (``intervall=1``) changes nothing
or fails only where the value is used, after a whole epoch. Here every key that is not already
in the config must be a parameter of what takes it: a top-level entry one the runner reads, a
key of a dict with a ``type`` a parameter of that type's constructor (found in the config's
registry scope), a key of a dict without one a key it already has (the model's ``train_cfg`` /
``test_cfg`` included, which mmdet and mmseg read without checking). A value must be of the
kind the config's own is (a number for a number, true/false for a flag), and the lengths and
intervals of a run positive: ``max_epochs=-1`` would train nothing and exit as a success."""
import ast
import builtins
import difflib
import importlib
import inspect
import os
import textwrap

import torch
from mmengine.config import Config
from mmengine.registry import Registry
from mmengine.runner import FlexibleRunner, Runner

from .errors import UsageError

# What the runners read from the config besides their constructors' parameters.
RUNNER_ENTRIES = ('runner_type', 'custom_imports', 'model_wrapper_cfg', 'sync_bn',
                  'find_unused_parameters', 'activation_checkpointing',
                  'efficient_conv_bn_eval', 'compile')
# Keys the builders consume themselves: mmengine's in any typed dict (schedulers convert to
# iterations), mmcv's build_norm_layer in norm_cfg.
BUILDER_KEYS = {'type', '_scope_', '_delete_', 'convert_to_iter_based', 'requires_grad'}
# Keys the runner consumes from these top-level dicts before building them.
RUNNER_KEYS = {'optim_wrapper': ('constructor', 'paramwise_cfg'), 'train_cfg': ('by_epoch',)}
# What the runner builds from these top-level dicts when they name no type (the train loop
# depends on by_epoch), or the keys it reads from them.
DEFAULT_TARGETS = {
    'val_cfg': 'ValLoop', 'test_cfg': 'TestLoop', 'optim_wrapper': 'OptimWrapper',
    'log_processor': 'LogProcessor', 'train_dataloader': torch.utils.data.DataLoader,
    'val_dataloader': torch.utils.data.DataLoader,
    'test_dataloader': torch.utils.data.DataLoader,
    'randomness': ('seed', 'diff_rank_seed', 'deterministic'),
    'env_cfg': ('cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit'),
    'auto_scale_lr': ('enable', 'base_batch_size')}
# Dicts whose keys are names the config chooses (hooks by name, parameter-name patterns).
OPEN_DICTS = ('default_hooks', 'custom_keys', 'metainfo')
# Settings that must be positive integers (the last key of the path), and those that may be 0
# (a hook's ``interval`` may be -1: never).
POSITIVE = ('max_epochs', 'max_iters', 'val_interval', 'batch_size')
NON_NEGATIVE = ('num_workers',)
# Constructors that take no keyword arguments although their signatures say **kwargs.
NO_KEYWORDS = (object.__init__, torch.nn.Module.__init__)
ABSENT = object()  # an entry the config does not have


def refuse(key, problem, valid=()):
    """Raises UsageError: ``key`` of --cfg-options is wrong, with the closest valid name."""
    closest = difflib.get_close_matches(key.split('.')[-1], sorted(valid), n=1)
    hint = f" (did you mean '{closest[0]}'?)" if closest else ''
    raise UsageError(f'--cfg-options {key}: {problem}{hint}')


def resolve_callee(node, function, cls):
    """The object a call's function expression names in ``function``'s module (``super``,
    ``self.method`` and dotted names too), or ABSENT when it cannot be told."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call) and \
            isinstance(node.value.func, ast.Name) and node.value.func.id == 'super':
        return 'super'
    if isinstance(node, ast.Attribute):
        owner = cls if isinstance(node.value, ast.Name) and node.value.id == 'self' else \
            resolve_callee(node.value, function, cls)
        return ABSENT if owner in (ABSENT, None) else getattr(owner, node.attr, ABSENT)
    if isinstance(node, ast.Name):
        return function.__globals__.get(node.id, getattr(builtins, node.id, ABSENT))
    return ABSENT


def mentions(node, name):
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def literal_key(node, name):
    """'k' of ``name.pop('k')``, ``name.get('k')``, ``name['k']``, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr in ('pop', 'get', 'setdefault') and \
            isinstance(node.func.value, ast.Name) and node.func.value.id == name:
        target = node.args[0] if node.args else None
    elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and \
            node.value.id == name:
        target = node.slice
    else:
        return None
    return target.value if isinstance(target, ast.Constant) else None


def kwargs_destinations(function, name, cls):
    """Where the ``**name`` keywords of ``function`` go: the literal keys it takes out and the
    callables it passes them on to (``super`` for the base class), or None without source."""
    function = inspect.unwrap(function)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    keys, callees = set(), []
    for node in ast.walk(tree):
        key = literal_key(node, name)
        if key is not None:
            keys.add(key)
        if isinstance(node, ast.Call) and any(
                keyword.arg is None and mentions(keyword.value, name)
                for keyword in node.keywords):
            callee = resolve_callee(node.func, function, cls)
            if callee is ABSENT:
                return None
            callees.append(callee)
    return keys, callees


def base_init_names(cls, owner, visiting):
    """The keywords of the next ``__init__`` after ``owner``'s in ``cls``'s method order."""
    mro = cls.__mro__
    base = next(k for k in mro[mro.index(owner) + 1:] if '__init__' in vars(k))
    return init_names(cls, base, visiting)


def init_names(cls, owner, visiting):
    function = vars(owner)['__init__']
    if function in NO_KEYWORDS:
        return set()
    return callable_names(function, cls, owner, visiting)


def callable_names(function, cls, owner, visiting):
    """The keyword names ``function`` accepts, following its ``**kwargs`` to where they go
    (None: anything, as far as can be told)."""
    if function in visiting:
        return set()
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    var_keyword = next((p.name for p in parameters if p.kind is p.VAR_KEYWORD), None)
    if var_keyword is None:
        return names - {'self'}
    destinations = kwargs_destinations(function, var_keyword, cls)
    if destinations is None:
        return None
    keys, callees = destinations
    names |= keys
    for callee in callees:
        if callee == 'super':
            more = base_init_names(cls, owner, visiting | {function})
        else:
            more = accepted_names(callee, visiting | {function})
        if more is None:
            return None
        names |= more
    return names - {'self'}


def accepted_names(target, visiting=frozenset()):
    """The keyword arguments a class (its constructor) or a function accepts; None when that
    cannot be told (no source, keywords passed on to something unknown)."""
    if inspect.isclass(target):
        owner = next(k for k in target.__mro__ if '__init__' in vars(k))
        return init_names(target, owner, visiting)
    if callable(target):
        return callable_names(target, None, None, visiting)
    return None


def registered(type_name, scope):
    """What ``type_name`` names in the registries of ``scope`` (mmdet, mmseg; mmengine's root
    ones without a scope), a class or a type given directly; empty when nothing."""
    if not isinstance(type_name, str):
        return [type_name]
    try:
        module = importlib.import_module(f'{scope}.registry' if scope else 'mmengine.registry')
    except ImportError:
        return []
    found = [registry.get(type_name) for registry in vars(module).values()
             if isinstance(registry, Registry)]
    return list({id(target): target for target in found if target is not None}.values())


def parameter_defaults(target, scope):
    """{parameter: default} of the constructor of what ``target`` names (a type name, a class,
    or the runner's keys as a tuple: none), for the kind check of keys the config lacks."""
    if isinstance(target, tuple) or target is None:
        return {}
    defaults = {}
    for found in registered(target, scope):
        try:
            parameters = inspect.signature(found).parameters.values()
        except (TypeError, ValueError):
            continue
        defaults.update({p.name: p.default for p in parameters
                         if p.default is not inspect.Parameter.empty})
    return defaults


def type_keys(type_name, scope, extra=()):
    """The keys a dict of type ``type_name`` may have; None when they cannot be told."""
    targets = registered(type_name, scope)
    names = set(BUILDER_KEYS) | set(extra)
    for target in targets:
        accepted = accepted_names(target)
        if accepted is None:
            return None
        names |= accepted
    return names if targets else None


def top_level_keys(cfg):
    names = set(cfg.keys()) | set(RUNNER_ENTRIES)
    for runner in (Runner, FlexibleRunner):
        names |= accepted_names(runner) - {'cfg'}
    return names


def implied_target(path, merged):
    """What the runner builds from the untyped top-level dict ``path`` (keys ``merged``)."""
    if path == 'train_cfg':
        return 'EpochBasedTrainLoop' if merged.get('by_epoch', True) else 'IterBasedTrainLoop'
    return DEFAULT_TARGETS.get(path)


def valid_keys(path, existing, target, scope, typed_above):
    """The keys the dict at ``path`` (``existing`` in the config, of type ``target``) may
    have; None when any key may be new there: a new dict, a dict of names, or an untyped dict
    that is a parameter value of a typed one (what reads it cannot be seen from here)."""
    if isinstance(target, tuple):
        return set(target)
    if target is not None:
        return type_keys(target, scope, RUNNER_KEYS.get(path, ()))
    if not existing or path.split('.')[-1] in OPEN_DICTS:
        return None
    if typed_above and not path.startswith('model.'):
        return None  # a parameter value of a typed dict: what reads it cannot be seen here
    return set(existing)


def unknown_key_problem(path, key, target):
    if target is None or isinstance(target, tuple):
        return f"{path} has no entry '{key}'"
    return f"{getattr(target, '__name__', target)} takes no parameter '{key}'"


def kind(value):
    """What a --cfg-options value must stay: 'a flag', 'a number', or None (anything)."""
    if isinstance(value, bool):
        return 'true or false'
    if isinstance(value, (int, float)):
        return 'a number'
    return None


def check_value(key, existing, value, default=ABSENT):
    """Refuses a value of another kind than the config's, or for a key the config lacks than
    its parameter's ``default`` (``max_epochs=abc``), and a non-positive length or interval of
    the run (``max_epochs=-1``)."""
    reference, source = (existing, 'the config has') if existing is not ABSENT else \
        (default, 'its default is')
    expected = kind(reference) if reference is not ABSENT else None
    if expected is not None and kind(value) != expected:
        refuse(key, f'expects {expected} ({source} {reference!r}), got {value!r}')
    name = key.split('.')[-1]
    if name in POSITIVE + NON_NEGATIVE and isinstance(value, (int, float)) and \
            not isinstance(value, bool):
        lowest = 1 if name in POSITIVE else 0
        if value < lowest or value != int(value):
            refuse(key, f"must be an integer >= {lowest}, got {value!r}")


def check_list(node, overrides, path, scope, typed_above):
    for key, value in overrides.items():
        if not key.isdigit() or int(key) >= len(node):
            indices = f'indices 0 to {len(node) - 1}' if node else 'no entries'
            refuse(f'{path}.{key}', f'{path} is a list with {indices}')
        if isinstance(value, dict):
            check_entries(node[int(key)], value, f'{path}.{key}', scope, typed_above)


def check_entries(node, overrides, path, scope, typed_above=False):
    """Refuses keys of ``overrides`` (the nested --cfg-options under ``path``) that nothing at
    ``path`` of the config takes; ``_delete_`` replaces the config's entry as mmengine does."""
    if overrides.get('_delete_'):
        node = ABSENT
    if isinstance(node, list):
        return check_list(node, overrides, path, scope, typed_above)
    if node is not ABSENT and not isinstance(node, dict):
        refuse(f'{path}.{next(iter(overrides))}', f'{path} is {node!r} in the config, not a '
               f'dict (replace it whole with {path}._delete_=True)')
    existing = {} if node is ABSENT else node
    scope = overrides.get('_scope_', existing.get('_scope_', scope))
    merged = {**existing, **overrides}
    target = merged.get('type') or implied_target(path, merged)
    new = set(overrides) - set(existing)
    if 'type' in overrides:  # a new type must take the keys the config already gives
        new |= set(existing)
    valid = valid_keys(path, existing, target, scope, typed_above)
    for key in sorted(new - BUILDER_KEYS):
        if valid is not None and key not in valid:
            kept = f' (kept from the config; to replace {path} whole add ' \
                   f'{path}._delete_=True)' if key not in overrides else ''
            refuse(f'{path}.{key}', unknown_key_problem(path, key, target) + kept, valid)
    typed_above = typed_above or target is not None
    defaults = parameter_defaults(target, scope) if new - set(existing) else {}
    for key, value in overrides.items():
        if isinstance(value, dict):
            check_entries(existing.get(key, ABSENT), value, f'{path}.{key}', scope, typed_above)
        else:  # a key the config lacks is checked against its parameter's default
            check_value(f'{path}.{key}', existing.get(key, ABSENT), value,
                        defaults.get(key, ABSENT))


def nested(options):
    """The dotted ``--cfg-options`` keys as nested dicts, as mmengine merges them."""
    tree = {}
    for key, value in options.items():
        *parents, last = key.split('.')
        node = tree
        for depth, part in enumerate(parents):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                refuse(key, f"{'.'.join(parents[:depth + 1])} is also given a value")
        node[last] = value
    return tree


def check_overrides(cfg, options):
    """Refuses overrides that match no option of what they set, before anything is built."""
    tree = nested(options)
    valid = top_level_keys(cfg)
    for key in sorted(set(tree) - valid):
        refuse(key, f"the config has no entry '{key}' and the runner reads none", valid)
    scope = cfg.get('default_scope')
    for key, value in tree.items():
        if isinstance(value, dict):
            check_entries(cfg.get(key, ABSENT), value, key, scope)
        else:
            check_value(key, cfg.get(key, ABSENT), value)


def load_config(path, cfg_options=None):
    """The mmengine Config of the file ``path`` with ``cfg_options`` (``--cfg-options``, a
    dict of dotted keys) checked and applied; a missing file or an unknown key raises
    UsageError with a message that names it."""
    if not os.path.isfile(path):
        raise UsageError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        check_overrides(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg
