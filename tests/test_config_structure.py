"""Every config of every task in the structure the project promises: its InternImage network
names a variant (``arch``) and states only options that change it, the built network has the
variant's architecture with those changes, and every checkpoint hook writes atomically."""
import ast
import glob
import os
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

import internimage.engine  # noqa: F401  (registers the optimizer constructor)
import classification  # noqa: F401
import detection  # noqa: F401
import segmentation  # noqa: F401
from internimage.models.variants import ARCHS, arch_options, level_widths, variant_name

CONFIG_FILES = set(glob.glob('configs/**/*.py', recursive=True))
CONFIGS = sorted(path for path in CONFIG_FILES if '/_base_/' not in path)
ARCHITECTURE_OPTIONS = {option for options in ARCHS.values() for option in options}


def variant_prefix(network):
    """The family whose arch keys the network's ``arch`` aliases (FlashInternImage's
    ``flash_internimage_``, InternImage's ``internimage_``)."""
    from internimage.models.variants import MODEL_PREFIX
    return getattr(MODELS.get(network['type']), 'variant_prefix', MODEL_PREFIX)


def names_a_variant(arch, prefix):
    """Whether ``arch`` names a variant of the record: its name (``'internimage_t'``) or its
    arch key (``'t'``) in the family of ``prefix``."""
    try:
        return arch is not None and variant_name(arch, prefix) in ARCHS
    except KeyError:
        return False


def network_config(model_cfg):
    """The InternImage part of a config's model: the classifier or the backbone (inside the
    TTA model of the test-only multi-scale configs)."""
    model_cfg = model_cfg.get('module', model_cfg)
    return model_cfg['classifier'] if 'classifier' in model_cfg else model_cfg['backbone']


def inherited(path):
    """The project's config files that ``path`` inherits through ``_base_``, transitively
    (entries with a scope, ``mmdet::...``, are the libraries')."""
    tree = ast.parse(Path(path).read_text())
    bases = next((ast.literal_eval(node.value) for node in tree.body
                  if isinstance(node, ast.Assign)
                  and getattr(node.targets[0], 'id', '') == '_base_'), [])
    found = set()
    for base in [bases] if isinstance(bases, str) else bases:
        if '::' not in base:
            base = os.path.normpath(os.path.join(os.path.dirname(path), base))
            found |= {base} | inherited(base)
    return found


def test_every_config_file_is_checked():
    """The checks below take their configs from the disk, so a new config is checked without
    editing this file; a _base_ piece is checked through the configs that inherit it, so one
    that none inherits (never built, never checked) fails here."""
    pieces = set().union(*map(inherited, CONFIGS))
    assert pieces <= CONFIG_FILES, f'missing _base_ files: {sorted(pieces - CONFIG_FILES)}'
    unchecked = CONFIG_FILES - set(CONFIGS) - pieces
    assert not unchecked, f'config files no config uses: {sorted(unchecked)}'
    assert {path.split('/')[1] for path in CONFIGS} == {'classification', 'detection',
                                                        'segmentation'}


@pytest.mark.parametrize('path', CONFIGS)
def test_network_is_a_variant_plus_what_the_config_changes(path):
    cfg = Config.fromfile(path)
    network = network_config(cfg.model)
    arch = network.get('arch')
    if cfg.get('default_scope'):
        init_default_scope(cfg.default_scope)
    prefix = variant_prefix(network)
    assert names_a_variant(arch, prefix), f'{path}: the InternImage network names no variant'
    variant = arch_options(arch, prefix=prefix)
    restated = {option: value for option, value in network.items()
                if option in variant and value == variant[option]}
    assert not restated, f'{path} restates the variant table: {restated}'
    with torch.device('meta'):
        model = MODELS.build(network)
    expected = {**variant, **{k: v for k, v in network.items() if k in ARCHITECTURE_OPTIONS}}
    trunks = list(model.cb_modules) if hasattr(model, 'cb_modules') else [model]
    for trunk in trunks:
        assert trunk.level_channels == level_widths(expected['channels'],
                                                    len(expected['depths']))
        assert [len(level.blocks) for level in trunk.levels] == list(expected['depths'])
        assert [level.blocks[0].dcn.group for level in trunk.levels] == list(expected['groups'])
        block = trunk.levels[0].blocks[0]
        assert block.post_norm == expected.get('post_norm', False)
        assert (block.res_post_norm1 is not None) == expected.get('res_post_norm', False)
        layer_scale = expected.get('layer_scale')
        assert (block.gamma1 is None) == (layer_scale is None)
        assert block.dcn.offset_scale == expected.get('offset_scale', 1.0)
        post_norm_ids = expected.get('level2_post_norm_block_ids') or ()
        assert sorted(trunk.levels[2].post_norm_positions) == list(post_norm_ids)
    if 'classifier' in cfg.model:
        assert model.use_clip_projector == expected.get('use_clip_projector', False)


def checkpoint_hooks(cfg):
    hooks = [cfg.default_hooks.get('checkpoint')]
    hooks += [h for h in cfg.get('custom_hooks') or [] if h.get('type') == 'CheckpointHook']
    return [h for h in hooks if h is not None]


@pytest.mark.parametrize('path', CONFIGS)
def test_every_checkpoint_hook_writes_atomically(path):
    hooks = checkpoint_hooks(Config.fromfile(path))
    assert hooks, f'{path} saves no checkpoints'
    for hook in hooks:
        assert (hook.get('backend_args') or {}).get('backend') == 'atomic_local', path


def test_task_descriptors_match_their_demo_configs():
    from internimage.engine import TASKS, UsageError, task_of
    assert sorted(TASKS) == ['classification', 'detection', 'segmentation']
    for task in TASKS.values():
        cfg = Config.fromfile(task.demo_config)
        assert task_of(cfg) is task and cfg.get('default_scope') == task.scope
        assert task.demo_data_dir in str(cfg.test_dataloader.dataset.get('data_root', '')) or \
            task.demo_data_dir.rstrip('/') in str(cfg.test_dataloader.dataset)
        samples = task.data_sample_class()
        assert samples is None if task.scope is None else samples.__name__.endswith('DataSample')
        if task.image_demo is None:
            with pytest.raises(UsageError, match='image_demo works for detection'):
                task.image_demo_module()
        else:
            assert callable(task.image_demo_module().run_image_demo)
        modules = task.cpu_bf16_modules or ()
        assert all(name in cfg.model for name in modules)


def test_a_config_of_another_task_is_refused_by_name():
    from internimage.engine import UsageError, task_of
    with pytest.raises(UsageError, match="unsupported default_scope 'mmpose'"):
        task_of(Config(dict(default_scope='mmpose')))
