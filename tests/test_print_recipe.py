"""tools/print_recipe.py: what it prints for one config of each task (and a layer-decay
detector), checked against values computed here independently of the tool: the parameters
per (lr, weight-decay) multiplier from the model's own names and shapes, the launch and lr
scaling from the config's batch and the stated GPU count, the schedule, the test resize, the
init checkpoint; its name patterns expand to exactly the parameters of their group; a wrong
--cfg-options key stops it with a message."""
import math
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, MODELS

from tool_scripts import ROOT, load_tool

print_recipe = load_tool('print_recipe')

CLASSIFICATION = 'configs/classification/internimage_t_1k_224.py'
DETECTION = 'configs/detection/coco/mask_rcnn_internimage_t_fpn_1x_coco.py'
SEGMENTATION = 'configs/segmentation/ade20k/upernet_internimage_t_512_160k_ade20k.py'
LAYER_DECAY = 'configs/detection/coco/dino_4scale_internimage_t_1x_coco.py'
T_CHECKPOINT = 'checkpoints/internimage_t_1k_224.pth'


@pytest.fixture(autouse=True)
def in_the_repository(monkeypatch):
    monkeypatch.chdir(ROOT)  # the configs are named relative to the repository root


def meta_model(config):
    cfg = Config.fromfile(str(ROOT / config))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')), torch.device('meta'):
        return MODELS.build(cfg.model)


def no_decay(name, param):
    """1-D parameters and biases: what every recipe here trains without weight decay."""
    return param.ndim == 1 or name.endswith('.bias')


def counts(result):
    return {(group['lr_mult'], group['wd_mult']): group['count'] for group in result['groups']}


def shows(printed, phrase):
    """Whether ``printed`` holds ``phrase``, however its lines were wrapped."""
    return ' '.join(phrase.split()) in ' '.join(printed.split())


def section(printed, title):
    """The lines of ``printed`` from the one starting with ``title`` to the next that starts
    at the margin."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(' ')),
               len(lines))
    return lines[start:end]


def expand(pattern, kinds):
    """The parameter names (keys of ``kinds``: name -> 'Module.parameter') a printed pattern
    stands for: 'a-b' an index range, a final '*' everything below, '[k1, k2]' only those
    kinds."""
    text, _, only = pattern.partition(' [')
    only = set(only.rstrip(']').split(', ')) if only else None
    parts = text.split('.')
    below = parts[-1] == '*'
    parts = parts[:-1] if below else parts

    def matches(name):
        name_parts = name.split('.')
        if len(name_parts) < len(parts) + below or (not below and len(name_parts) != len(parts)):
            return False
        for part, name_part in zip(parts, name_parts):
            bounds = re.fullmatch(r'(\d+)-(\d+)', part)
            if bounds:
                if not (name_part.isdigit() and
                        int(bounds.group(1)) <= int(name_part) <= int(bounds.group(2))):
                    return False
            elif part != name_part:
                return False
        return only is None or kinds[name] in only

    return {name for name in kinds if matches(name)}


def kinds_of(model):
    return {name: f'{type(model.get_submodule(name.rpartition(".")[0])).__name__}.'
                  f'{name.rpartition(".")[2]}' for name, _ in model.named_parameters()}


def test_segmentation_recipe(capsys):
    result = print_recipe.main([SEGMENTATION])
    printed = capsys.readouterr().out
    model = meta_model(SEGMENTATION)
    params = dict(model.named_parameters())
    without = sum(no_decay(name, param) for name, param in params.items())
    # layer decay rate 1.0: every parameter at the base lr; no decay on 1-D and biases
    assert counts(result) == {(1.0, 1.0): len(params) - without, (1.0, 0.0): without}
    assert result['lr'] == 6e-5
    assert any(re.fullmatch(r'\s+1\.0\s+6e-05\s+0\.0\s+0\.0\s+' + str(without) + r'\s+[\d,]+',
                            line) for line in printed.splitlines())
    assert f'{len(params)} parameter tensors in 2 groups' in printed
    # launch: 2 per GPU x the 8 GPUs the config's header states
    assert '2 per GPU x 8 GPUs = 16 images per optimizer step' in printed
    assert shows(printed, 'upernet_internimage_t_512_160k_ade20k.py:1: "UperNet, InternImage-T')
    assert 'auto_scale_lr not set' in printed
    # schedule: 160k iterations, warm-up 1500 then poly
    assert 'IterBasedTrainLoop: 160000 iterations (2,560,000 images at 16 per step)' in printed
    assert result['schedule']['max_iters'] == 160000
    assert '  LinearLR  iterations 0-1501  start_factor=1e-06' in printed
    assert '  PolyLR  iterations 0-160001  power=1.0, eta_min=0.0' in printed
    # the test resize of the single-scale test, six scales in the TTA
    test = section(printed, 'test pipeline')
    assert '  Resize  scale=(2048, 512), keep_ratio=True' in test
    tta = section(printed, 'TTA')
    assert sum('Resize  scale=' in line for line in tta) == 6
    assert '      Resize  scale=(1024, 256), keep_ratio=True' in tta
    # where it starts from
    assert shows(printed, f'model.backbone.init_cfg: Pretrained {T_CHECKPOINT}')
    assert result['start']['init_checkpoints'] == [('model.backbone.init_cfg', T_CHECKPOINT)]
    assert 'load_from    none' in printed and 'EMA          none' in printed


def test_detection_recipe_with_train_size_and_every_parameter(capsys):
    coco_train = 118287
    result = print_recipe.main([DETECTION, '--train-size', str(coco_train), '--per-parameter'])
    printed = capsys.readouterr().out
    model = meta_model(DETECTION)
    params = dict(model.named_parameters())
    without = sum(no_decay(name, param) for name, param in params.items())
    assert counts(result) == {(1.0, 1.0): len(params) - without, (1.0, 0.0): without}
    # the 1x schedule over COCO train2017 at 8 x 2 images (the last, partial batch is kept)
    per_epoch = math.ceil(coco_train / 16)
    assert f'12 epochs x {per_epoch} iterations' in printed
    assert result['schedule']['max_iters'] == 12 * per_epoch
    assert '  MultiStepLR  epochs 0-12  milestones=[8, 11], gamma=0.1' in printed
    assert '  LinearLR  iterations 0-501  start_factor=0.001' in printed
    assert shows(printed, 'schedule_adamw_1x.py:5: "16 images per iteration (8 GPUs x 2). The warm-up')
    assert shows(printed, 'auto_scale_lr off (base_batch_size 16): the lr is used as given')
    assert '  Resize  scale=(1333, 800), keep_ratio=True' in section(printed, 'test pipeline')
    assert shows(printed, f'model.backbone.init_cfg: Pretrained {T_CHECKPOINT}')
    # --per-parameter: one line per parameter with its multipliers
    listed = section(printed, 'every parameter')[1:]
    assert len(listed) == len(params)
    assert '  backbone.patch_embed.conv1.bias  (32,)  1.0  0.0' in listed
    assert '  backbone.patch_embed.conv1.weight  (32, 3, 3, 3)  1.0  1.0' in listed


def test_classification_recipe_scales_the_lr_with_the_launch(capsys):
    result = print_recipe.main([CLASSIFICATION])
    printed = capsys.readouterr().out
    model = meta_model(CLASSIFICATION)
    params = dict(model.named_parameters())
    without = sum(no_decay(name, param) for name, param in params.items())
    assert counts(result) == {(1.0, 1.0): len(params) - without, (1.0, 0.0): without}
    # the published launch the config states: 32 GPUs x 128 images, lr 5e-4 per 512 images
    assert result['launch'] == dict(batch=128, gpus=32, total=4096, accumulate=1,
                                    gpus_source=result['launch']['gpus_source'])
    assert 'internimage_t_1k_224.py:4' in result['launch']['gpus_source']
    assert result['lr'] == pytest.approx(5e-4 * 4096 / 512)
    assert shows(printed, 'auto_scale_lr on: lr 0.0005 x 4096 / 512 (total / base_batch_size) '
                          '= 0.004')
    assert 'AmpOptimWrapper' in printed and 'clipping     norm max_norm=5.0' in printed
    assert shows(printed, "EMAHook ema_type='ExponentialMovingAverage', momentum=0.0001")
    assert '300 epochs' in printed
    assert shows(printed, 'TimmCosineLR epochs 0-300, stepped every iteration warmup=20')
    # the evaluation transform timm builds: resize the short side to 224, centre crop 224
    test = section(printed, 'test pipeline')
    assert any(line.strip().startswith('Resize(size=224,') for line in test)
    assert '    CenterCrop(size=(224, 224))' in test
    assert 'no Pretrained init_cfg' in printed

    result = print_recipe.main([CLASSIFICATION, '--gpus', '8'])
    printed = capsys.readouterr().out
    assert result['lr'] == pytest.approx(5e-4 * 1024 / 512)
    assert '128 per GPU x 8 GPUs = 1024 images per optimizer step' in printed
    assert 'GPUs         8: given with --gpus' in printed


def test_layer_decay_groups_and_their_name_patterns(capsys):
    result = print_recipe.main([LAYER_DECAY])
    capsys.readouterr()
    model = meta_model(LAYER_DECAY)
    params = dict(model.named_parameters())
    # published detection rule, rate 0.9 over T (4-4-18-4 blocks): 32 layers, the stem and the
    # DETR level embedding at layer 0 (lr x 0.9^31), heads at the last (lr x 1)
    assert sorted({group['lr_mult'] for group in result['groups']}) == pytest.approx(
        sorted(0.9 ** k for k in range(32)), rel=1e-9)
    stem = {name for name in params if name.startswith('backbone.patch_embed.')
            or name == 'level_embed'}
    lowest = [group for group in result['groups']
              if group['lr_mult'] == pytest.approx(0.9 ** 31)]
    assert {name for group in lowest for name in group['names']} == stem
    assert {group['wd_mult']: group['count'] for group in lowest} == {
        1.0: sum(not no_decay(name, params[name]) for name in stem),
        0.0: sum(no_decay(name, params[name]) for name in stem)}
    assert result['lr_patterns'][result['groups'][-1]['lr_mult']] == [
        'level_embed', 'backbone.patch_embed.*']
    # every printed pattern stands for exactly its group's parameters
    kinds = kinds_of(model)
    for group in result['groups']:
        expanded = set().union(*(expand(p, kinds) for p in group['patterns']))
        assert expanded == set(group['names']), group['patterns']
    for wd_mult, patterns in result['wd_patterns'].items():
        names = {name for group in result['groups'] if group['wd_mult'] == wd_mult
                 for name in group['names']}
        assert set().union(*(expand(p, kinds) for p in patterns)) == names


def test_without_a_stated_gpu_count_eight_are_assumed_and_said(capsys):
    result = print_recipe.main(['configs/classification/demo/internimage_demo_shapes.py'])
    assert result['launch']['gpus'] == 8
    assert shows(capsys.readouterr().out, 'no config file states a GPU count; 8 assumed')


def test_a_wrong_option_key_exits_with_a_message():
    with pytest.raises(SystemExit) as exited:
        print_recipe.main([SEGMENTATION, '--cfg-options', 'train_cfg.max_iter=1000'])
    assert "--cfg-options train_cfg.max_iter" in str(exited.value.code)
    assert "did you mean 'max_iters'?" in str(exited.value.code)
    with pytest.raises(SystemExit) as exited:
        print_recipe.main([SEGMENTATION, '--gpus', '0'])
    assert exited.value.code == 2


def test_patterns_merge_consecutive_indices_of_equal_contents_only():
    model = torch.nn.Module()
    model.blocks = torch.nn.ModuleList(
        torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LayerNorm(2)) for _ in range(5))
    model.head = torch.nn.Linear(2, 1)
    names = [name for name, _ in model.named_parameters()]
    tree = print_recipe.name_tree([dict(name=name, kind=print_recipe.parameter_kind(model, name))
                                   for name in names])

    def described(chosen):
        patterns = print_recipe.describe_names(tree, chosen)
        kinds = kinds_of(model)
        assert set().union(*(expand(p, kinds) for p in patterns)) == set(chosen)
        return patterns

    assert described([n for n in names if n.startswith(('blocks.0.', 'blocks.1.',
                                                         'blocks.3.'))]) == \
        ['blocks.0-1.*', 'blocks.3.*']
    assert described([n for n in names if n.endswith('.bias')]) == \
        ['blocks.* [LayerNorm.bias, Linear.bias]', 'head.bias']
    assert described([n for n in names if n.endswith('0.weight') and 'blocks.4' not in n]) == \
        ['blocks.0-3.0.weight']
    assert described(names) == ['blocks.*', 'head.*']
