"""The classification configs named after published recipes train and evaluate as the published
code did, tested against facts read from that code (OpenGVLab/InternImage, classification/):

- config.py: the defaults every yaml starts from (DEFAULTS below);
- configs/without_lr_decay/*.yaml (the released models: README.md links each released file to
  one of them), configs/internimage_*.yaml (with LR_LAYER_DECAY), configs/inaturalist2018/
  internimage_h_22ktoinat18_384.yaml: what each recipe changes (RECIPES below);
- main.py: lr, warm-up lr and min lr scaled by BATCH_SIZE * world size / 512; --amp-opt-level
  defaults to O1 and overrides the config's AMP_OPT_LEVEL; SoftTarget loss with Mixup, label
  smoothing otherwise; timm ModelEma updated every step when EMA.ENABLE;
- dataset/build.py: timm create_transform for training; evaluation Resize(int(1.0 * IMG_SIZE),
  INTERPOLATION) + CenterCrop(IMG_SIZE) + ToTensor + Normalize(AUG.MEAN, AUG.STD); Mixup built
  from AUG.* with MODEL.LABEL_SMOOTHING and 1000 (8142 for inat18) classes;
- optimizer.py with models/intern_image.py lr_decay_keywords: the parameter groups
  (LAYER_DECAY_FACTS below); lr_scheduler.py: timm CosineLRScheduler per step;
- README.md and train_in1k.sh / train_inat18.sh: GPUs x images per GPU of each launch.
"""
import glob
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DATASETS, MODELS
from mmengine.runner import Runner
from PIL import Image
from torchvision import transforms

import classification  # noqa: F401  (registers the modules)
import internimage.engine  # noqa: F401
from classification.inat import date_code, place_code
from classification.inference import Predictor
from classification.layer_decay import ClassificationLayerDecayConstructor
from internimage.engine.layer_decay import record_parameter_ndims
from internimage.models import PRETRAINED, create_classifier

ROOT = Path(__file__).resolve().parents[1]
CLS = ROOT / 'configs' / 'classification'

# published classification/config.py, the values the recipes rely on
DEFAULTS = dict(
    IMG_SIZE=224, BATCH_SIZE=128, INTERPOLATION='bicubic', NUM_CLASSES=1000,
    DROP_PATH_RATE=0.1, LABEL_SMOOTHING=0.1, USE_CHECKPOINT=False, RAND_INIT_FT_HEAD=False,
    EPOCHS=300, WARMUP_EPOCHS=20, WEIGHT_DECAY=0.05, BASE_LR=5e-4, WARMUP_LR=5e-7, MIN_LR=5e-6,
    CLIP_GRAD=5.0, OPTIMIZER='adamw', EPS=1e-8, BETAS=(0.9, 0.999), DCN_LR_MUL=None,
    EMA_ENABLE=False, EMA_DECAY=0.9998, LR_LAYER_DECAY=False, LR_LAYER_DECAY_RATIO=0.875,
    COLOR_JITTER=0.4, AUTO_AUGMENT='rand-m9-mstd0.5-inc1', REPROB=0.25, REMODE='pixel',
    RECOUNT=1, MIXUP=0.8, CUTMIX=1.0, MIXUP_PROB=1.0, MIXUP_SWITCH_PROB=0.5, MIXUP_MODE='batch',
    MEAN=(0.485, 0.456, 0.406), STD=(0.229, 0.224, 0.225), TEST_CROP=True,
    EVAL_AUTOCAST=False)  # InternImage's main.py validates in float32
# what the fine-tune yamls (L/XL/H/G 22kto1k, without_lr_decay and not) all set
FINE_TUNE = dict(MIXUP=0.0, CUTMIX=0.0, REPROB=0.0, LABEL_SMOOTHING=0.3, EMA_ENABLE=True,
                 EMA_DECAY=0.9999, EPOCHS=20, WARMUP_EPOCHS=2, WEIGHT_DECAY=0.05, BASE_LR=2e-5,
                 WARMUP_LR=0.0, MIN_LR=0.0, USE_CHECKPOINT=True, DCN_LR_MUL=0.1)
WITH_LR_DECAY = dict(LR_LAYER_DECAY=True, LR_LAYER_DECAY_RATIO=0.9)
FROM_SCRATCH = dict(EMA_ENABLE=True, EMA_DECAY=0.9999, BASE_LR=5e-4)
# config -> (published yaml, its settings over DEFAULTS, launch: (GPUs, images per GPU))
RECIPES = {
    'internimage_t_1k_224.py': ('without_lr_decay/internimage_t_1k_224.yaml',
                                dict(FROM_SCRATCH, DROP_PATH_RATE=0.1), (32, 128)),
    'internimage_s_1k_224.py': ('without_lr_decay/internimage_s_1k_224.yaml',
                                dict(FROM_SCRATCH, DROP_PATH_RATE=0.4), (32, 128)),
    'internimage_b_1k_224.py': ('without_lr_decay/internimage_b_1k_224.yaml',
                                dict(FROM_SCRATCH, DROP_PATH_RATE=0.5), (32, 128)),
    'internimage_l_22kto1k_384.py': ('without_lr_decay/internimage_l_22kto1k_384.yaml',
                                     dict(FINE_TUNE, IMG_SIZE=384, DROP_PATH_RATE=0.1),
                                     (32, 16)),
    'internimage_xl_22kto1k_384.py': ('without_lr_decay/internimage_xl_22kto1k_384.yaml',
                                      dict(FINE_TUNE, IMG_SIZE=384, DROP_PATH_RATE=0.2),
                                      (32, 16)),
    'internimage_h_22kto1k_640.py': ('without_lr_decay/internimage_h_22kto1k_640.yaml',
                                     dict(FINE_TUNE, IMG_SIZE=640, DROP_PATH_RATE=0.2),
                                     (32, 16)),
    # the only H-384 yaml of the published repository (see the config's header); its launch
    # is not published
    'internimage_h_22kto1k_384.py': ('internimage_h_22kto1k_384.yaml',
                                     dict(FINE_TUNE, **WITH_LR_DECAY, IMG_SIZE=384,
                                          DROP_PATH_RATE=0.2), (32, 16)),
    'internimage_g_22kto1k_512.py': ('without_lr_decay/internimage_g_22kto1k_512.yaml',
                                     dict(FINE_TUNE, IMG_SIZE=512, DROP_PATH_RATE=0.4),
                                     (64, 8)),
    **{f'with_lr_decay/internimage_{name}.py': (
        f'internimage_{name}.yaml', dict(FINE_TUNE, **WITH_LR_DECAY, IMG_SIZE=size,
                                         DROP_PATH_RATE=drop_path), launch)
       for name, size, drop_path, launch in (('l_22kto1k_384', 384, 0.1, (32, 16)),
                                             ('xl_22kto1k_384', 384, 0.2, (32, 16)),
                                             ('h_22kto1k_640', 640, 0.2, (32, 16)),
                                             ('g_22kto1k_512', 512, 0.4, (64, 8)))},
    # FlashInternImage (OpenGVLab/DCNv4 classification/: the same config.py defaults and main.py
    # as InternImage's, but validate() runs under the training autocast, EVAL_AUTOCAST below).
    # Launch: its README trains "with 8 GPU on a single node", train_in1k.sh passes
    # --batch-size 128; no launch is published for the L fine-tune (InternImage-L's assumed).
    **{f'flash_internimage_{v}_1k_224.py': (f'flash_intern_image_{v}_1k_224.yaml',
                                           dict(FROM_SCRATCH, DROP_PATH_RATE=drop_path,
                                                EVAL_AUTOCAST=True), (8, 128))
       for v, drop_path in (('t', 0.1), ('s', 0.4), ('b', 0.5))},
    'flash_internimage_l_22kto1k_384.py': ('flash_intern_image_l_22kto1k_384.yaml',
                                           dict(FINE_TUNE, **WITH_LR_DECAY, IMG_SIZE=384,
                                                DROP_PATH_RATE=0.1, EVAL_AUTOCAST=True),
                                           (32, 16)),
    # train_inat18.sh: 8 GPUs, DATA.BATCH_SIZE left at its default
    'inaturalist2018/internimage_h_22ktoinat18_384.py': (
        'inaturalist2018/internimage_h_22ktoinat18_384.yaml',
        dict(IMG_SIZE=384, MIXUP=0.0, CUTMIX=0.0, REPROB=0.0, DROP_PATH_RATE=0.6,
             LABEL_SMOOTHING=0.3, EMA_ENABLE=False, EPOCHS=100, WARMUP_EPOCHS=0,
             WEIGHT_DECAY=0.05, BASE_LR=2e-5, WARMUP_LR=0.0, MIN_LR=0.0, USE_CHECKPOINT=True,
             RAND_INIT_FT_HEAD=True, NUM_CLASSES=8142), (8, 128)),
}
# the released files' preprocessing: every published evaluation is Resize(IMG_SIZE) +
# CenterCrop(IMG_SIZE), bicubic, ImageNet mean/std (TEST.CROP is never changed)
RELEASED_EVALUATION = {'internimage_t_1k_224.pth': 224, 'internimage_s_1k_224.pth': 224,
                       'internimage_b_1k_224.pth': 224, 'internimage_l_22kto1k_384.pth': 384,
                       'internimage_xl_22kto1k_384.pth': 384,
                       'internimage_h_22kto1k_640.pth': 640,
                       'internimage_h_22kto1k_384.pth': 384,
                       'internimage_g_22kto1k_512.pth': 512,
                       'flash_intern_image_t_1k_224.pth': 224,
                       'flash_intern_image_s_1k_224.pth': 224,
                       'flash_intern_image_b_1k_224.pth': 224,
                       'flash_internimage_l_22kto1k_384.pth': 384}


def settings(name):
    yaml, changes, launch = RECIPES[name]
    return {**DEFAULTS, **changes}, launch


def load(name):
    return Config.fromfile(str(CLS / name))


def test_every_recipe_config_is_in_the_table():
    recipes = {str(Path(p).relative_to(CLS)) for p in glob.glob(str(CLS / '**' / '*.py'),
                                                                   recursive=True)}
    recipes = {p for p in recipes if not p.startswith('demo/') and not p.endswith('_fsdp.py')}
    assert recipes == set(RECIPES)


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_recipe_trains_and_evaluates_as_published(name):
    cfg = load(name)
    published, (gpus, batch) = settings(name)
    train, test = (cfg.train_dataloader.dataset.transform, cfg.test_dataloader.dataset.transform)
    # data: training augmentation (dataset/build.py), evaluation resize + centre crop
    assert train.input_size == test.input_size == published['IMG_SIZE']
    assert train.interpolation == test.interpolation == published['INTERPOLATION']
    assert (train.auto_augment, train.color_jitter, train.re_prob, train.re_mode,
            train.re_count) == (published['AUTO_AUGMENT'], published['COLOR_JITTER'],
                                published['REPROB'], published['REMODE'], published['RECOUNT'])
    assert test.crop_pct == 1.0 and published['TEST_CROP']
    for transform in (train, test):
        assert tuple(transform.mean) == published['MEAN']
        assert tuple(transform.std) == published['STD']
    # model, loss, Mixup / CutMix
    classifier = cfg.model.classifier
    assert classifier.drop_path_rate == published['DROP_PATH_RATE']
    assert classifier.get('with_cp', False) == published['USE_CHECKPOINT']
    assert classifier.num_classes == published['NUM_CLASSES']
    assert (classifier.get('head_init_scale', 1.0) == 1e-3) == published['RAND_INIT_FT_HEAD']
    if published['MIXUP'] > 0 or published['CUTMIX'] > 0:
        assert cfg.model.mixup == dict(
            mixup_alpha=published['MIXUP'], cutmix_alpha=published['CUTMIX'],
            prob=published['MIXUP_PROB'], switch_prob=published['MIXUP_SWITCH_PROB'],
            mode=published['MIXUP_MODE'], label_smoothing=published['LABEL_SMOOTHING'],
            num_classes=published['NUM_CLASSES'])
    else:
        assert cfg.model.mixup is None
        assert cfg.model.label_smoothing == published['LABEL_SMOOTHING']
    # EMA: timm ModelEma(decay) == mmengine momentum 1 - decay, buffers included
    ema = [hook for hook in cfg.custom_hooks if hook.type == 'EMAHook']
    if published['EMA_ENABLE']:
        assert len(ema) == 1 and ema[0].update_buffers
        assert ema[0].momentum == pytest.approx(1 - published['EMA_DECAY'], abs=1e-12)
    else:
        assert not ema
    # optimizer and its groups, clipping, mixed precision (main.py: O1 by default)
    wrapper = cfg.optim_wrapper
    assert (wrapper.type, wrapper.dtype, wrapper.loss_scale) == (
        'AmpOptimWrapper', 'float16', 'dynamic')
    assert wrapper.optimizer.type.lower() == published['OPTIMIZER']
    assert (wrapper.optimizer.lr, tuple(wrapper.optimizer.betas), wrapper.optimizer.eps,
            wrapper.optimizer.weight_decay) == (published['BASE_LR'], published['BETAS'],
                                                published['EPS'], published['WEIGHT_DECAY'])
    assert wrapper.clip_grad == dict(max_norm=published['CLIP_GRAD'])
    assert wrapper.constructor == 'ClassificationLayerDecayConstructor'
    paramwise = wrapper.paramwise_cfg
    assert paramwise.lr_layer_decay == published['LR_LAYER_DECAY']
    assert paramwise.get('dcn_lr_mul') == published['DCN_LR_MUL']
    if published['LR_LAYER_DECAY']:
        assert paramwise.lr_layer_decay_ratio == published['LR_LAYER_DECAY_RATIO']
    # main.py: DDP with fp16_compress_hook, broadcast_buffers=False
    assert cfg.model_wrapper_cfg == dict(type='FP16CompressedDDP', broadcast_buffers=False)
    # the effective lr of the published launch: BASE_LR * BATCH_SIZE * GPUs / 512
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=512)
    assert wrapper.optimizer.lr * batch * gpus / cfg.auto_scale_lr.base_batch_size == \
        pytest.approx(published['BASE_LR'] * batch * gpus / 512.0)
    # schedule: EPOCHS, WARMUP_EPOCHS, WARMUP_LR and MIN_LR relative to BASE_LR
    assert cfg.train_cfg.max_epochs == published['EPOCHS'] and cfg.train_cfg.val_interval == 1
    (scheduler,) = cfg.param_scheduler
    assert (scheduler.type, scheduler.begin, scheduler.end, scheduler.warmup) == (
        'TimmCosineLR', 0, published['EPOCHS'], published['WARMUP_EPOCHS'])
    assert scheduler.by_epoch and scheduler.convert_to_iter_based
    assert scheduler.warmup_lr_ratio == pytest.approx(published['WARMUP_LR'] /
                                                      published['BASE_LR'])
    assert scheduler.min_lr_ratio == pytest.approx(published['MIN_LR'] / published['BASE_LR'])
    assert scheduler.get('lag', 1) == 1
    # evaluation in float32, or under the training autocast (DCNv4's main.py)
    assert cfg.val_cfg.get('fp16', False) == cfg.test_cfg.get('fp16', False) == \
        published['EVAL_AUTOCAST']


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_training_images_are_decoded_as_published(name):
    """ImageNet: the training set through mmcv.imfrombytes (OpenCV), validation through PIL;
    iNaturalist: OpenCV for both."""
    cfg = load(name)
    inat = name.startswith('inaturalist2018/')
    assert cfg.train_dataloader.dataset.decoder == 'cv2'
    assert cfg.test_dataloader.dataset.get('decoder', 'pil') == ('cv2' if inat else 'pil')


def fixed_image(height=300, width=410):
    rng = np.random.default_rng(24)
    smooth = rng.integers(0, 256, (height // 10 + 1, width // 10 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(smooth).resize((width, height), Image.BILINEAR)
    noise = rng.integers(-20, 21, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, int) + noise, 0, 255).astype(np.uint8))


def published_evaluation(size, interpolation='bicubic', mean=DEFAULTS['MEAN'],
                         std=DEFAULTS['STD']):
    """dataset/build.py's evaluation transform with TEST.CROP (its only setting)."""
    mode = {'bicubic': transforms.InterpolationMode.BICUBIC,
            'bilinear': transforms.InterpolationMode.BILINEAR}[interpolation]
    return transforms.Compose([transforms.Resize(int(1.0 * size), interpolation=mode),
                               transforms.CenterCrop(size), transforms.ToTensor(),
                               transforms.Normalize(mean, std)])


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_evaluation_transform_equals_the_published_one_on_an_image(name):
    from timm.data import create_transform
    transform = load(name).test_dataloader.dataset.transform
    ours = create_transform(**transform, is_training=False)
    image = fixed_image()
    expected = published_evaluation(RECIPES[name][1].get('IMG_SIZE', 224))(image)
    got = ours(image)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_record_evaluates_every_release_as_published():
    records = {record.file: record for record in PRETRAINED.values()}
    image = fixed_image()
    for file, size in RELEASED_EVALUATION.items():
        record = records[file]
        assert (record.input_size, record.crop_pct, record.interpolation, tuple(record.mean),
                tuple(record.std)) == (size, 1.0, 'bicubic', DEFAULTS['MEAN'], DEFAULTS['STD'])
        # the Predictor's own transform for that record (on a small stand-in network)
        predictor = Predictor(create_classifier('internimage_test'), record.input_size,
                              record.crop_pct, record.interpolation, record.mean, record.std)
        torch.testing.assert_close(predictor.preprocess(image)[0],
                                   published_evaluation(size)(image), rtol=0, atol=1e-5)


def test_predictor_of_internimage_t_preprocesses_as_the_published_evaluation():
    predictor = Predictor.from_variant('internimage_t')
    image = fixed_image()
    torch.testing.assert_close(predictor.preprocess(image)[0],
                               published_evaluation(224)(image), rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Parameter groups: published optimizer.py + lr_decay_keywords. (parameter, blocks counted back
# from the last one whose ratio it takes (None: the base lr), DCN_LR_MUL applies, decayed)
L_DEPTHS_FACTS = [  # L: depths 5, 5, 22, 5 (37 blocks)
    ('levels.3.blocks.4.mlp.fc1.weight', 0, False, True),
    ('levels.3.blocks.0.dcn.input_proj.weight', 4, False, True),
    ('levels.2.blocks.21.norm1.0.weight', 5, False, False),
    ('levels.2.blocks.11.dcn.output_proj.weight', 15, False, True),
    ('levels.2.blocks.1.mlp.fc2.weight', 25, False, True),
    ('levels.2.blocks.0.dcn.offset.weight', 26, True, True),
    ('levels.1.blocks.0.dcn.mask.weight', 31, False, True),
    ('levels.1.blocks.0.gamma1', 31, False, False),
    ('levels.0.blocks.0.dcn.offset.bias', 36, True, False),
    ('patch_embed.conv1.weight', 36, False, True),
    ('patch_embed.norm2.1.bias', 36, False, False),
    ('levels.0.downsample.conv.weight', 31, False, True),
    ('levels.1.downsample.norm.1.weight', 26, False, False),
    ('levels.2.downsample.conv.weight', 4, False, True),
    ('conv_head.0.weight', None, False, True),
    ('conv_head.1.0.weight', None, False, False),
    ('head.weight', None, False, True),
    ('head.bias', None, False, False),
]
H_DEPTHS_FACTS = [  # H: depths 6, 6, 32, 6 (50 blocks)
    ('levels.2.post_norms.0.0.weight', None, False, False),  # matches no keyword
    ('levels.3.norm.0.weight', None, False, False),
    ('levels.2.norm.0.weight', 5, False, False),
    ('levels.0.norm.0.bias', 43, False, False),
    ('levels.2.blocks.5.dcn.center_feature_scale_proj_weight', 32, True, True),
    ('levels.2.blocks.5.dcn.center_feature_scale_proj_bias', 32, True, False),
    ('levels.2.blocks.5.dcn.offset.weight', 32, True, True),
    ('levels.2.blocks.5.dcn.mask.bias', 32, False, False),
    ('levels.2.blocks.5.res_post_norm1.0.weight', 32, False, False),
    ('patch_embed.norm1.1.weight', 49, False, False),
    ('clip_projector.cross_dcn.q_bias', None, False, False),
    ('clip_projector.cross_dcn.proj.weight', None, False, True),
    ('dcnv3_head_x4.0.weight', None, False, True),
    ('fc_norm.0.weight', None, False, False),
]


def parameter_groups(path, **paramwise):
    """{parameter name: (lr, weight decay)} as the config's constructor builds them (on the
    meta device; a plain OptimWrapper: AMP needs a GPU and changes no group)."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(str(path))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    wrapper_cfg = dict(cfg.optim_wrapper, type='OptimWrapper')
    for key in ('dtype', 'loss_scale'):
        wrapper_cfg.pop(key, None)
    wrapper_cfg['paramwise_cfg'] = dict(wrapper_cfg['paramwise_cfg'], **paramwise)
    optimizer = build_optim_wrapper(model, wrapper_cfg).optimizer
    groups = {name: (group['lr'], group['weight_decay']) for group in optimizer.param_groups
              for name in group['param_names']}
    assert len(groups) == sum(1 for _ in model.parameters())
    return groups


@pytest.mark.parametrize('name, facts', [
    ('with_lr_decay/internimage_l_22kto1k_384.py', L_DEPTHS_FACTS),
    ('with_lr_decay/internimage_h_22kto1k_640.py', H_DEPTHS_FACTS)])
def test_layer_decay_gives_each_parameter_the_published_lr_and_decay(name, facts):
    groups = parameter_groups(CLS / name)
    for parameter, blocks_back, dcn, decayed in facts:
        lr = 2e-5 * (0.9 ** blocks_back if blocks_back is not None else 1.0) * \
            (0.1 if dcn else 1.0)
        assert groups['classifier.' + parameter] == (pytest.approx(lr), 0.05 if decayed else 0.0)


@pytest.mark.parametrize('name', ['internimage_l_22kto1k_384.py',
                                  'internimage_h_22kto1k_640.py'])
def test_released_fine_tunes_train_every_parameter_at_the_base_lr(name):
    """without_lr_decay: DCN_LR_MUL is stated but optimizer.py applies it only with layer
    decay."""
    groups = parameter_groups(CLS / name)
    assert {lr for lr, _ in groups.values()} == {2e-5}
    facts = L_DEPTHS_FACTS if '_l_' in name else H_DEPTHS_FACTS
    for parameter, _, _, decayed in facts:
        assert groups['classifier.' + parameter][1] == (0.05 if decayed else 0.0)


def test_weight_decay_rule_sees_the_shapes_before_fsdp_flattens_them():
    """FSDP (use_orig_params) hands the constructor 1-D views of every parameter, under names
    with '_fsdp_wrapped_module.' inserted: the groups must be those of the model as built."""
    cfg = dict(type='ImageClassificationModel',
               classifier=dict(type='InternImageClassifier', arch='test', num_classes=5))
    optim_cfg = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3,
                                                         weight_decay=0.05))
    paramwise = dict(lr_layer_decay=True, lr_layer_decay_ratio=0.5, dcn_lr_mul=0.1)

    def groups_of(module):
        params = []
        ClassificationLayerDecayConstructor(optim_cfg, paramwise).add_params(params, module)
        return {name.replace('_fsdp_wrapped_module.', ''): (g['lr'], g['weight_decay'])
                for g in params for name in g['param_names']}

    plain = groups_of(MODELS.build(cfg))

    class Flattened(nn.Module):
        def __init__(self, model):
            super().__init__()
            record_parameter_ndims(model)  # as InternImageFSDPStrategy does before wrapping
            self._fsdp_wrapped_module = model
            for param in model.parameters():
                param.data = param.data.reshape(-1)

    flattened = groups_of(Flattened(MODELS.build(cfg)))
    assert flattened == plain
    assert {wd for _, wd in plain.values()} == {0.0, 0.05}


# ---------------------------------------------------------------------------------------------
# lr schedule: published lr_scheduler.py builds timm's CosineLRScheduler and main.py calls
# step_update(epoch * num_steps + idx) after each optimizer step.
@pytest.mark.parametrize('epochs, warmup_epochs, warmup_lr, min_lr', [
    (6, 2, 1e-3, 1e-2), (5, 0, 0.0, 0.0), (4, 1, 0.0, 0.0)])
def test_lr_schedule_is_timm_cosine_stepped_as_published(epochs, warmup_epochs, warmup_lr,
                                                         min_lr):
    from timm.scheduler.cosine_lr import CosineLRScheduler

    from classification.schedule import TimmCosineLR
    iters, base, peaks = 7, 1.0, (1.0, 0.3)  # two groups, as layer decay makes them
    weights = [nn.Parameter(torch.zeros(1)) for _ in peaks]

    def optimizer(lr_scale):
        groups = [dict(params=[w], lr=base * p) for w, p in zip(weights, peaks)]
        if lr_scale:  # what ClassificationLayerDecayConstructor records
            for group, peak in zip(groups, peaks):
                group['lr_scale'] = peak
        return torch.optim.SGD(groups, lr=base)

    published = optimizer(lr_scale=False)
    timm = CosineLRScheduler(published, t_initial=epochs * iters, lr_min=min_lr * base,
                             warmup_lr_init=warmup_lr * base, warmup_t=warmup_epochs * iters,
                             cycle_limit=1, t_in_epochs=False)
    ours = optimizer(lr_scale=True)
    scheduler = TimmCosineLR.build_iter_from_epoch(
        ours, warmup=warmup_epochs, warmup_lr_ratio=warmup_lr, min_lr_ratio=min_lr, begin=0,
        end=epochs, by_epoch=True, epoch_length=iters)
    for epoch in range(epochs):
        for idx in range(iters):
            expected = [group['lr'] for group in published.param_groups]
            used = [group['lr'] for group in ours.param_groups]
            assert used == pytest.approx(expected, rel=1e-12, abs=1e-15), (epoch, idx)
            published.step()
            timm.step_update(epoch * iters + idx)
            ours.step()
            scheduler.step()


# ---------------------------------------------------------------------------------------------
# iNaturalist 2018 (published dataset/cached_image_folder.py INat18*, get_temporal_info with
# miss_hour=True, get_spatial_info; models/intern_image_meta_former.py)
def test_date_and_place_codes_are_the_published_ones():
    assert date_code('2017-06-15 10:32:00') == pytest.approx([math.sin(math.pi),
                                                               math.cos(math.pi), 0, 0])
    assert date_code(' 2016-03-01') == pytest.approx([1.0, 0.0, 0, 0], abs=1e-12)
    for missing in ('', None, 'unknown', '-5-1', 17):
        assert date_code(missing) == [0, 0, 0, 0]
    half = math.sqrt(0.5)
    assert place_code(45.0, 90.0) == pytest.approx([0.0, half, half], abs=1e-12)
    assert place_code(-30.0, 180.0) == pytest.approx([-math.sqrt(0.75), 0.0, -0.5], abs=1e-12)
    for latitude, longitude in ((0.0, 10.0), (10.0, 0.0), (None, 3.0), (3.0, None)):
        assert place_code(latitude, longitude) == [0, 0, 0]


# the meta heads of the released internimage_h_22ktoinat18_384.pth, as the published
# InternImageMetaFormer names them (meta_dim 64)
META_KEYS = {
    **{f'meta_head_{i}.{k}': shape for i, size in ((1, 4), (2, 3)) for k, shape in (
        ('0.weight', (64, size)), ('0.bias', (64,)), ('2.weight', (64,)), ('2.bias', (64,)),
        ('3.w1.weight', (64, 64)), ('3.w1.bias', (64,)), ('3.w2.weight', (64, 64)),
        ('3.w2.bias', (64,)), ('3.norm_fn1.weight', (64,)), ('3.norm_fn1.bias', (64,)),
        ('3.norm_fn2.weight', (64,)), ('3.norm_fn2.bias', (64,)))},
    'meta_norm.weight': (128,), 'meta_norm.bias': (128,), 'meta_head.weight': (8142, 128),
    'meta_head.bias': (8142,)}


def write_inat(root, split, count=4):
    """A tiny iNaturalist 2018 split in the official layout."""
    os.makedirs(os.path.join(root, 'images'), exist_ok=True)
    images, annotations, places = [], [], []
    dates = ['2017-06-15 10:00:00', '', '2015-12-01', None]
    coords = [(45.0, 90.0), (0.0, 5.0), (None, None), (-30.0, 180.0)]
    for i in range(count):
        name = f'images/{split}_{i}.png'
        Image.fromarray(np.full((20 + i, 30, 3), 40 * i, np.uint8)).save(os.path.join(root, name))
        images.append(dict(id=100 + i, file_name=name))
        annotations.append(dict(id=i, image_id=100 + i, category_id=[7, 3][i % 2]))
        places.append(dict(id=100 + i, date=dates[i], lat=coords[i][0], lon=coords[i][1]))
    categories = [dict(id=3, name='three'), dict(id=7, name='seven')]
    with open(os.path.join(root, f'{split}2018.json'), 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    with open(os.path.join(root, f'{split}2018_locations.json'), 'w') as f:
        json.dump(places, f)


def test_inat_recipe_reads_the_data_and_trains_the_meta_model(tmp_path):
    from mmengine.dataset import default_collate
    cfg = load('inaturalist2018/internimage_h_22ktoinat18_384.py')
    write_inat(str(tmp_path), 'train')
    dataset_cfg = dict(cfg.train_dataloader.dataset, data_root=str(tmp_path),
                       transform=dict(cfg.train_dataloader.dataset.transform, input_size=32))
    dataset = DATASETS.build(dataset_cfg)
    assert dataset.classes == ['three', 'seven']
    assert [label for _, label, _, _ in dataset.samples] == [1, 0, 1, 0]
    assert dataset.samples[0][2] == date_code('2017-06-15 10:00:00')
    assert dataset.samples[1][3] == [0, 0, 0] and dataset.samples[3][3] == place_code(-30, 180)
    batch = default_collate([dataset[i] for i in range(4)])
    images, dates, places = batch['inputs']
    assert images.shape == (4, 3, 32, 32) and dates.shape == (4, 4) and places.shape == (4, 3)

    # the recipe's classifier (H) as built: meta-head names and shapes as released, head 0.001x
    classifier_cfg = cfg.model.classifier
    with torch.device('meta'):
        built = MODELS.build(classifier_cfg)
    meta = {k: tuple(v.shape) for k, v in built.state_dict().items() if k.startswith('meta_')}
    assert meta == META_KEYS
    # the same classifier on the small test network: a training step through the model
    small = dict(classifier_cfg, arch='test', num_classes=2, with_cp=False)
    torch.manual_seed(0)
    plain = MODELS.build(dict(type='InternImageClassifier', arch='test', num_classes=2))
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model, classifier=small))
    model.init_weights()  # as the Runner does before loading
    torch.testing.assert_close(model.classifier.head.weight, plain.head.weight * 1e-3)
    assert plain.head.weight.abs().max() > 0.01
    losses = model(batch['inputs'], batch['data_samples'], mode='loss')
    assert torch.isfinite(losses['loss'])
    losses['loss'].backward()
    assert model.classifier.meta_head_1[0].weight.grad is not None
    predictions = model(batch['inputs'], batch['data_samples'], mode='predict')
    assert [p['gt_label'] for p in predictions] == [1, 0, 1, 0]


def test_inat_reader_refuses_lists_out_of_order(tmp_path):
    write_inat(str(tmp_path), 'val')
    path = tmp_path / 'val2018.json'
    data = json.loads(path.read_text())
    data['annotations'].reverse()
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='the lists must be in the same order'):
        DATASETS.build(dict(type='INaturalist2018Dataset', data_root=str(tmp_path),
                            split='val'))


# ---------------------------------------------------------------------------------------------
# Cityscapes UperNet: the published segmentation/configs/cityscapes/upernet_internimage_
# {t,s,b,l,xl}_512x1024_160k_cityscapes.py set num_classes=150 in both heads.
CITYSCAPES_UPERNET = {v: 150 for v in ('t', 's', 'b', 'l', 'xl')}


@pytest.mark.parametrize('variant', sorted(CITYSCAPES_UPERNET))
def test_cityscapes_upernet_heads_have_the_published_outputs(variant):
    cfg = Config.fromfile(str(ROOT / 'configs' / 'segmentation' / 'cityscapes' /
                              f'upernet_internimage_{variant}_512x1024_160k_cityscapes.py'))
    assert cfg.model.decode_head.num_classes == CITYSCAPES_UPERNET[variant]
    assert cfg.model.auxiliary_head.num_classes == CITYSCAPES_UPERNET[variant]
    assert cfg.val_evaluator.type == 'IoUMetric'


def test_a_150_channel_prediction_is_evaluated_on_the_19_cityscapes_classes():
    """mmseg's IoUMetric counts the data set's classes; a pixel whose argmax over the 150
    logits is 19..149 is an error of its true class and no class's prediction."""
    from mmseg.evaluation import IoUMetric
    from mmseg.datasets import CityscapesDataset
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    logits = torch.zeros(150, 2, 3)
    predicted = torch.tensor([[0, 0, 25], [1, 149, 1]])
    logits.scatter_(0, predicted[None], 1.0)
    label = torch.tensor([[0, 1, 0], [1, 1, 255]])
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = CityscapesDataset.METAINFO
    sample = SegDataSample()
    sample.pred_sem_seg = PixelData(data=logits.argmax(0, keepdim=True))
    sample.gt_sem_seg = PixelData(data=label[None])
    metric.process([], [sample.to_dict()])
    intersect, union, pred_area, label_area = metric.results[0]
    # valid pixels: (0,0) right, (0,1) 0 for 1, (0,2) 25 for 0, (1,0) right, (1,1) 149 for 1
    assert intersect[:2].tolist() == [1, 1] and label_area[:2].tolist() == [2, 3]
    assert pred_area[:2].tolist() == [2, 1] and pred_area.sum() == 3
    assert union[:2].tolist() == [3, 3] and len(intersect) == 19


@pytest.mark.parametrize('name', ['internimage_t_1k_224.py',
                                  'with_lr_decay/internimage_l_22kto1k_384.py',
                                  'flash_internimage_l_22kto1k_384.py'])
def test_recipe_trains_through_the_runner(name, shapes_root, tmp_path):
    """The recipe's parts (OpenCV decoding, groups, TimmCosineLR, EMA) in mmengine's Runner, on
    the small test network and the shapes set, in float32 (AMP needs a GPU); FlashInternImage's
    validation runs under the autocast mmengine gives its ValLoop (bfloat16 on a CPU)."""
    cfg = load(name)
    wrapper = dict(cfg.optim_wrapper, type='OptimWrapper')
    for key in ('dtype', 'loss_scale'):
        wrapper.pop(key)
    cfg.optim_wrapper = wrapper
    cfg.merge_from_dict({
        'work_dir': str(tmp_path), 'model.classifier.arch': 'test',
        'model.classifier.num_classes': 6, 'model.classifier.with_cp': False,
        'train_cfg.max_epochs': 2,
        'param_scheduler.0.end': 2, 'param_scheduler.0.warmup': 1,
        'default_hooks.logger.interval': 1, 'auto_scale_lr.enable': False,
        **{f'{split}_dataloader.{key}': value for split in ('train', 'val', 'test')
           for key, value in (('batch_size', 8), ('num_workers', 0),
                              ('persistent_workers', False),
                              ('dataset.data_root', shapes_root),
                              ('dataset.transform.input_size', 32))}})
    if cfg.model.mixup:
        cfg.model.mixup.num_classes = 6
    runner = Runner.from_cfg(cfg)
    lrs = []

    class RecordLr(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            lrs.append(max(g['lr'] for g in runner.optim_wrapper.param_groups))

    runner.register_hook(RecordLr(), 'LOWEST')
    runner.train()
    base = cfg.optim_wrapper.optimizer.lr
    warmup = 5e-7 / 5e-4 * base if '1k_224' in name else 0.0
    # 3 iterations per epoch, warm-up over the first 3 steps, one step late (published)
    expected = [warmup, warmup, warmup + (base - warmup) / 3, warmup + 2 * (base - warmup) / 3]
    assert lrs[:4] == pytest.approx(expected)
    assert len(lrs) == 6 and runner.iter == 6


def _all_reduce_in_two_processes(rank, port, results):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        torch.manual_seed(0)
        layer = nn.Linear(3, 2)
        wrapped = classification.FP16CompressedDDP(layer, device_ids=None,
                                                   broadcast_buffers=False)
        wrapped(torch.full((1, 3), 1.0 + rank + 1e-4)).sum().backward()
        results[rank] = layer.weight.grad.clone()
    finally:
        dist.destroy_process_group()


def test_ddp_all_reduces_gradients_in_float16():
    """The published main.py's fp16_compress_hook: each process's gradient in float16, divided
    by the world size, summed (1 + 1e-4 is 1 in float16)."""
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    results = mp.Manager().dict()
    mp.spawn(_all_reduce_in_two_processes, args=(port, results), nprocs=2)
    expected = sum((torch.full((2, 3), 1.0 + rank + 1e-4).half() / 2).float()
                   for rank in range(2))
    for rank in range(2):
        assert torch.equal(results[rank], expected)
    assert not torch.equal(expected, torch.full((2, 3), (1.0 + 2.0 + 2e-4) / 2))  # float32
