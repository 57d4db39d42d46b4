"""Classification training through mmengine's Runner on generated data: a real training run
and evaluation, resume at the right iteration, the launchers, every config building."""
import glob
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, MODELS
from mmengine.runner import Runner

import internimage.engine  # noqa: F401  (registers the modules)
import classification  # noqa: F401
from internimage.models.variants import arch_options
from tool_scripts import run_tool

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / 'configs' / 'classification' / 'demo' / 'internimage_demo_shapes.py'
CONFIGS = sorted(glob.glob(str(ROOT / 'configs' / 'classification' / '*.py')))


def demo_config(data_root, work_dir, **overrides):
    """The demo config on the tiny generated set: batches of 8, one epoch, quiet."""
    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.merge_from_dict({
        'work_dir': str(work_dir), 'train_dataloader.batch_size': 8,
        'train_dataloader.num_workers': 0, 'val_dataloader.num_workers': 0,
        'test_dataloader.num_workers': 0, 'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.transform.input_size': 32,
        'val_dataloader.dataset.transform.input_size': 32,
        'test_dataloader.dataset.transform.input_size': 32,
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
        **overrides})
    return cfg


def test_one_epoch_trains_evaluates_and_saves(shapes_root, tmp_path):
    runner = Runner.from_cfg(demo_config(shapes_root, tmp_path))
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    # 6 classes x 4 images, batches of 8: three iterations, every weight tensor of a trained
    # layer changed, a checkpoint written, top-1 a percentage of the 12 validation images.
    assert runner.iter == 3
    after = runner.model.state_dict()
    assert not torch.equal(before['classifier.head.weight'], after['classifier.head.weight'])
    assert not torch.equal(before['classifier.levels.0.blocks.0.dcn.offset.weight'],
                           after['classifier.levels.0.blocks.0.dcn.offset.weight'])
    assert os.path.isfile(tmp_path / 'epoch_1.pth')


def test_bfloat16_autocast_trains_float32_weights(shapes_root, tmp_path):
    runner = Runner.from_cfg(demo_config(shapes_root, tmp_path, **{
        'optim_wrapper.type': 'BF16AutocastOptimWrapper'}))
    before = runner.model.classifier.head.weight.clone()
    runner.train()
    head = runner.model.classifier.head.weight
    assert head.dtype == torch.float32 and not torch.equal(before, head)
    with runner.optim_wrapper.optim_context(runner.model):
        logits = runner.model(torch.rand(2, 3, 32, 32))
    assert logits.dtype == torch.bfloat16
    assert runner.message_hub.get_scalar('train/loss').current() < 10
    metrics = runner.val_loop.run()
    assert set(metrics) == {'accuracy/top1', 'accuracy/top5'}
    assert metrics['accuracy/top1'] * 12 / 100 == pytest.approx(
        round(metrics['accuracy/top1'] * 12 / 100))
    assert metrics['accuracy/top1'] <= metrics['accuracy/top5'] <= 100


def test_resume_continues_at_the_saved_iteration(shapes_root, tmp_path):
    Runner.from_cfg(demo_config(shapes_root, tmp_path)).train()
    saved = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    runner = Runner.from_cfg(demo_config(shapes_root, tmp_path, **{'train_cfg.max_epochs': 2}))
    runner._resume = True  # what tools/train.py --resume sets through cfg.resume
    runner.load_or_resume()
    assert (runner.iter, runner.epoch) == (3, 1)
    state = runner.optim_wrapper.optimizer.state_dict()
    assert state['state'][0]['step'] == saved['optimizer']['state'][0]['step'] == 3
    assert torch.equal(runner.model.state_dict()['classifier.head.weight'],
                       saved['state_dict']['classifier.head.weight'])
    runner.train()
    assert (runner.iter, runner.epoch) == (6, 2)


def test_launchers_train_test_draw_and_extract_features(shapes_root, tmp_path):
    options = ['--cfg-options', f'train_dataloader.dataset.data_root={shapes_root}',
               f'val_dataloader.dataset.data_root={shapes_root}',
               f'test_dataloader.dataset.data_root={shapes_root}', 'train_cfg.max_epochs=1',
               'train_dataloader.batch_size=8', 'test_dataloader.batch_size=8',
               *[f'{split}_dataloader.dataset.transform.input_size=32'
                 for split in ('train', 'val', 'test')],
               'train_dataloader.num_workers=0',
               'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']
    work = tmp_path / 'work'
    trained = run_tool('train.py', DEMO_CONFIG, '--work-dir', work, '--amp',
                       *options)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert '--amp: BF16AutocastOptimWrapper in bfloat16' in trained.stdout  # no GPU here
    checkpoint = work / 'epoch_1.pth'
    assert checkpoint.is_file()
    tested = run_tool('test.py', DEMO_CONFIG, checkpoint, '--work-dir', work,
                      '--show-dir', tmp_path / 'pictures', *options)
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert 'accuracy/top1' in tested.stdout + tested.stderr
    pictures = sorted((tmp_path / 'pictures').glob('*.png'))
    assert len(pictures) == 2  # 12 test images, batches of 8

    features = tmp_path / 'features.npz'
    extracted = run_tool('extract_features.py', DEMO_CONFIG, checkpoint,
                         '--levels', 1, 3, '--out', features, *options)
    assert extracted.returncode == 0, extracted.stderr[-3000:]
    saved = np.load(features)
    assert saved['level_1'].shape == (12, 32) and saved['level_3'].shape == (12, 128)
    assert list(saved['labels']) == [label for label in range(6) for _ in range(2)]
    # the first image's pooled last level, recomputed here from the checkpoint
    cfg = demo_config(shapes_root, tmp_path)
    model = MODELS.build(cfg.model).eval()
    model.load_state_dict(torch.load(checkpoint, weights_only=True)['state_dict'])
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    with torch.no_grad():
        level_3 = model.classifier.forward_levels(dataset[0]['inputs'][None])[3]
    assert np.allclose(saved['level_3'][0], level_3.mean(dim=(1, 2))[0].numpy(), atol=1e-5)
    assert str(saved['paths'][0]) == dataset.samples[0][0]

    wrong_level = run_tool('extract_features.py', DEMO_CONFIG, checkpoint,
                           '--levels', 4, *options)
    assert wrong_level.returncode != 0 and 'the model has levels 0..3' in wrong_level.stderr


def test_launcher_refuses_unknown_config_key_and_missing_files(tmp_path):
    typo = run_tool('train.py', DEMO_CONFIG, '--cfg-options',
                    'train_cgf.max_epochs=1')
    assert typo.returncode != 0 and "no entry 'train_cgf'" in typo.stderr
    missing = run_tool('test.py', DEMO_CONFIG, tmp_path / 'nope.pth')
    assert missing.returncode != 0 and 'checkpoint not found' in missing.stderr
    published = tmp_path / 'published.pth'
    torch.save({'model': {'head.weight': torch.zeros(6, 128)}}, published)
    unconverted = run_tool('test.py', DEMO_CONFIG, published)
    assert unconverted.returncode != 0 and 'nor a release that converts' in unconverted.stderr


def classifier_depths(classifier):
    """The depths a classifier config builds: stated, or its variant's (an arch key names a
    variant of the classifier class's family)."""
    prefix = MODELS.get(classifier.type).variant_prefix
    return classifier.get('depths') or arch_options(classifier.arch, prefix=prefix)['depths']


@pytest.mark.parametrize('path', CONFIGS, ids=[os.path.basename(c) for c in CONFIGS])
def test_every_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    classifier = cfg.model.classifier
    assert model.classifier.head.out_features == classifier.num_classes == 1000
    assert len(model.classifier.levels) == 4
    assert [len(level.blocks) for level in model.classifier.levels] == list(
        classifier_depths(classifier))
    sizes = {cfg[f'{split}_dataloader'].dataset.transform.input_size
             for split in ('train', 'val', 'test')}
    expected = re.search(r'_(\d+)(_fsdp)?\.py$', path)
    assert sizes == {int(expected.group(1))}
    if expected.group(2):  # the sharded variants of the H/G configs
        assert cfg.runner_type == 'FlexibleRunner' and cfg.strategy.type == 'InternImageFSDPStrategy'
        assert cfg.optim_wrapper.type == 'ShardedOptimWrapper'


FINE_TUNES = [c for c in CONFIGS if '_22kto1k_' in c and not c.endswith('_fsdp.py')]


@pytest.mark.parametrize('path', FINE_TUNES, ids=[os.path.basename(c) for c in FINE_TUNES])
def test_22kto1k_fine_tunes_apply_the_published_lr_rule(path):
    """The published 22k -> 1k recipes (L/XL/H/G: lr 2e-5, label smoothing 0.3, 20 epochs, no
    Mixup) as the optimizer built from the config applies them (on the meta device: no memory;
    a plain OptimWrapper, as AMP needs a GPU): the released models' recipes (published
    without_lr_decay) train every parameter at 2e-5; H-384's (layer decay 0.9, DCN_LR_MUL 0.1)
    gives a block 0.9 ** (blocks after it), the DCN offsets a tenth of that, not the masks."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(path)
    assert (cfg.train_cfg.max_epochs, cfg.model.label_smoothing, cfg.model.mixup) == \
        (20, 0.3, None)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    wrapper = {k: v for k, v in cfg.optim_wrapper.items() if k not in ('dtype', 'loss_scale')}
    optimizer = build_optim_wrapper(model, dict(wrapper, type='OptimWrapper')).optimizer
    lr = {name: group['lr'] for group in optimizer.param_groups
          for name in group['param_names']}
    block = 'classifier.levels.1.blocks.0.dcn.'
    flash = cfg.model.classifier.type == 'FlashInternImageClassifier'
    base = lr[block + ('value_proj.weight' if flash else 'input_proj.weight')]
    assert lr['classifier.head.weight'] == pytest.approx(2e-5)
    if not cfg.optim_wrapper.paramwise_cfg.lr_layer_decay:
        assert set(lr.values()) == {2e-5}
        return
    if flash:  # every name with "offset": DCNv4's offset/mask projection and its dw conv
        assert lr[block + 'offset_mask.weight'] == pytest.approx(0.1 * base)
        assert lr[block + 'offset_mask_dw.bias'] == pytest.approx(0.1 * base)
    else:
        assert lr[block + 'offset.weight'] == pytest.approx(0.1 * base)
        assert lr[block + 'mask.bias'] == pytest.approx(base)
    assert lr[block + 'output_proj.weight'] == pytest.approx(base)
    depths = classifier_depths(cfg.model.classifier)
    # blocks counted from the last one (ratio 1, the head's); levels.1.blocks.0 has
    # depths[1] - 1 + depths[2] + depths[3] blocks after it
    assert base == pytest.approx(2e-5 * 0.9 ** (sum(depths[1:]) - 1))
