"""The facts of a detection or segmentation recipe that decide what it trains and evaluates, in
one vocabulary for both API generations: ``published_facts`` reads a published config (mmdet 2.28
/ mmseg 0.30 / mmcv 1.7 semantics), ``our_facts`` one of ours (mmengine / mmdet 3 / mmseg 1).
A fact is a name and a JSON value: backbone options with the backbone class's defaults filled in,
sizes and settings found anywhere in the model (as multisets, so that the two APIs' different
nesting does not matter), the heads' test settings, optimizer, clipping, schedule, EMA, batch,
pipelines (transforms that only format or load are left out; normalisation and padding are facts
of their own because the new API moved them into the data preprocessor), test-time augmentation,
dataset wrappers and the checkpoints a run starts from.

Run as a script over the published checkouts (OpenGVLab/InternImage, then OpenGVLab/DCNv4 for
the FlashInternImage recipes) to (re)write the table the tests compare with:

    python tests/recipe_facts.py INTERNIMAGE_CHECKOUT DCNV4_CHECKOUT \
        > tests/published_dense_recipes.json

(the published configs parse as plain data; nothing of the published code is imported)."""
import inspect
import json
import os
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent / 'published_dense_recipes.json'

# The published backbones' defaults (InternImage.__init__ in the published
# detection/mmdet_custom/models/backbones/intern_image.py and its segmentation twin; CBInternImage
# in cbnet.py, whose cb_zero_init / cb_del_stages no config changes): a config that does not
# state an option ran with these. InternImage's blocks always have the DCNv3 output and MLP fc2
# biases.
PUBLISHED_BACKBONE_DEFAULTS = dict(
    core_op='DCNv3', channels=64, depths=[3, 4, 18, 5], groups=[3, 6, 12, 24], mlp_ratio=4.0,
    drop_path_rate=0.2, act_layer='GELU', norm_layer='LN', layer_scale=None, offset_scale=1.0,
    post_norm=False, with_cp=False, dw_kernel_size=None, level2_post_norm=False,
    level2_post_norm_block_ids=None, res_post_norm=False, center_feature_scale=False,
    remove_center=False, use_dcn_v4_op=False, dcn_output_bias=True, mlp_fc2_bias=True)
# FlashInternImage.__init__ of OpenGVLab/DCNv4 (detection/mmdet_custom/models/backbones/
# flash_intern_image.py; the segmentation one is the same): what differs from InternImage's.
PUBLISHED_FLASH_DEFAULTS = {**PUBLISHED_BACKBONE_DEFAULTS, 'core_op': 'DCNv4', 'offset_scale': 0.5,
                            'dcn_output_bias': False, 'mlp_fc2_bias': False}
BACKBONE_OPTIONS = tuple(PUBLISHED_BACKBONE_DEFAULTS)

# Keys collected from anywhere in the model config. Sizes and weights that name the same thing
# in both API generations; the multiset of their values is compared.
MODEL_KEYS = ('num_classes', 'num_queries', 'loss_weight', 'align_corners', 'num_outs', 'embed_dims', 'num_heads',
              'num_levels', 'num_points', 'feedforward_channels', 'num_feature_levels',
              'dropout_ratio', 'num_dn_queries', 'label_noise_scale', 'box_noise_scale',
              'label', 'box', 'max_per_img', 'num_convs', 'channels', 'pool_scales', 'conv_out_channels', 'class_weight')
# mmdet 2 name: mmdet 3 name (DINO's noise_scale=dict(label=, box=) became two keys)
RENAMED = {'num_query': 'num_queries', 'label': 'label_noise_scale', 'box': 'box_noise_scale'}
# transforms that load or format only
FORMAT_ONLY = {'LoadImageFromFile', 'DefaultFormatBundle', 'Collect', 'ImageToTensor',
               'PackDetInputs', 'PackSegInputs', 'ToMask', 'Normalize', 'Pad'}


def _jsonable(value):
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, visit)


def model_values(model):
    """{key: sorted distinct values} of MODEL_KEYS found anywhere in the model config (distinct:
    the two APIs repeat a setting in different numbers of places); the backbone is left out (its
    options are facts of their own)."""
    found = {}

    def visit(node):
        for key in MODEL_KEYS + tuple(RENAMED):
            if key in node and not isinstance(node[key], dict):
                found.setdefault(RENAMED.get(key, key), []).append(
                    json.dumps(_jsonable(node[key])))
    _walk({k: v for k, v in model.items() if k != 'backbone'}, visit)
    return {k: sorted(set(v)) for k, v in sorted(found.items())}


def _options(transform):
    return {k: _jsonable(v) for k, v in sorted(transform.items())
            if k not in ('type', '_scope_')}


def scale_of(scale, keep_ratio):
    """A resize target; under keep_ratio only the (long, short) pair matters."""
    scale = [int(s) for s in scale]
    return sorted(scale, reverse=True) if keep_ratio else scale


def flatten(prefix, node):
    out = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(flatten(f'{prefix}{key}.', value))
        else:
            out[f'{prefix}{key}'] = _jsonable(value)
    return out


MISSING = object()


# The published CB-DINO's neck maps each trunk's maps by one ChannelMapper; ours is that
# ChannelMapper, which CBDINO applies to each trunk (detection/cb_dino.py).
NECK_NAMES = {'CBChannelMapper': 'ChannelMapper'}


def neck_fact(neck):
    """[type, norm type] of each neck (the published FlashInternImage FPN_vitdet normalises
    every conv, mmdet's FPN none); None without one."""
    if neck is None:
        return None
    return [[NECK_NAMES.get(n['type'], n['type']), (n.get('norm_cfg') or {}).get('type')]
            for n in (neck if isinstance(neck, list) else [neck])]


def attention_softmax(model):
    """Whether the deformable attention normalises its sampling weights by a softmax (False for
    the published "nsmx" recipe's use_softmax=False, ours UnnormalizedMSDeformAttnPixelDecoder)."""
    found = []

    def visit(node):
        if node.get('use_softmax') is False or \
                str(node.get('type', '')).endswith('UnnormalizedMSDeformAttnPixelDecoder'):
            found.append(node)
    _walk(model, visit)
    return not found


def start_and_head_facts(cfg, model, task):
    """The checkpoints a run starts from, the model settings outside the backbone and the
    heads' test settings (the same keys in both API generations). A model-level ``pretrained``
    (the mmseg base files' resnet50_v1c) is not read: the published InternImage swallowed it
    and initialised from its init_cfg only."""
    init = (model['backbone'].get('init_cfg') or {}).get('checkpoint')
    facts = {'backbone.pretrained': os.path.basename(init) if init else None,
             'load_from': os.path.basename(cfg['load_from']) if cfg.get('load_from') else None}
    for key, values in model_values(model).items():
        facts[f'model.{key}'] = values
    facts['neck'] = neck_fact(model.get('neck'))
    facts['model.attention_softmax'] = attention_softmax(model)
    test_cfg = model.get('test_cfg') or {}
    if task == 'det':
        facts.update(flatten('test_cfg.', test_cfg))
        if 'mask_head' not in (model.get('roi_head') or {}):  # a base file's, without effect
            facts.pop('test_cfg.rcnn.mask_thr_binary', None)
    else:
        facts['test_cfg.mode'] = test_cfg.get('mode', 'whole')
        if facts['test_cfg.mode'] == 'slide':
            facts['test_cfg.crop_size'] = list(test_cfg['crop_size'])
            facts['test_cfg.stride'] = list(test_cfg['stride'])
    return facts


def _shared_transform(t, task):
    """The fact of a transform both API generations name and configure alike; ``MISSING``
    for the others."""
    kind = t['type']
    if kind in FORMAT_ONLY:
        return None
    if kind == 'LoadAnnotations':
        return ['annotations', bool(t.get('with_mask', False))] if task == 'det' else \
            ['annotations']
    if kind == 'RandomCrop' and task == 'seg':
        return ['seg_crop', list(t['crop_size']), t.get('cat_max_ratio', 1.0)]
    if kind == 'PhotoMetricDistortion':
        return ['photometric', _options(t)]
    if kind == 'ResizeToMultiple':
        return ['resize_to_multiple', t.get('size_divisor', 32)]
    if kind in ('MapillaryHack', 'MapillaryToCityscapes'):  # published name, ours
        return ['mapillary_to_cityscapes']
    return MISSING


def dataset_and_wrappers(dataset):
    """The dataset a train/test dataset config reads and the wrappers around it (the pipeline
    of a wrapper never ran: mmdet 2 / mmseg 0 built a wrapper from its inner dataset)."""
    wrappers = []
    while dataset['type'] in ('RepeatDataset', 'ClassBalancedDataset', 'ConcatDataset'):
        if dataset['type'] == 'RepeatDataset':
            wrappers.append(['repeat', dataset['times']])
        elif dataset['type'] == 'ClassBalancedDataset':
            wrappers.append(['class_balanced', dataset['oversample_thr']])
        dataset = dataset['dataset'] if 'dataset' in dataset else dataset['datasets'][0]
    return wrappers, dataset


def reduces_zero_label(dataset):
    """Whether a segmentation training set shifts its labels down by one (label 0 ignored), set
    on the dataset or on its LoadAnnotations."""
    return bool(dataset.get('reduce_zero_label') or any(
        t.get('reduce_zero_label') for t in dataset['pipeline'] if t['type'] == 'LoadAnnotations'))


def optimizer_facts(optimizer, paramwise_cfg, clip):
    """The optimizer, its layer-decay rate and the gradient clipping (names alike in both API
    generations; only where they sit differs)."""
    paramwise_cfg = paramwise_cfg or {}
    custom_keys = paramwise_cfg.get('custom_keys')
    return {'optimizer': [optimizer['type'], optimizer['lr'], optimizer['weight_decay'],
                          list(optimizer.get('betas', (0.9, 0.999)))],
            'optimizer.layer_decay_rate': paramwise_cfg.get('layer_decay_rate', 1.0),
            'optimizer.offset_lr_scale': paramwise_cfg.get('offset_lr_scale', 1.0),
            'optimizer.lr_mult': {k: v.get('lr_mult', 1.0) for k, v in sorted(
                custom_keys.items())} if custom_keys else None,
            'clip_grad': [clip['max_norm'], clip.get('norm_type', 2)] if clip else None}


def ema_fact(cfg, hook_type):
    """[momentum, interval] of the config's EMA hook of ``hook_type``, or None."""
    ema = [h for h in cfg.get('custom_hooks') or [] if h['type'] == hook_type]
    return [ema[0]['momentum'], ema[0].get('interval', 1)] if ema else None


def tests_one_scale(facts):
    """Whether the test of ``facts`` is single-scale without flip (its --aug-test / --tta is a
    fact of its own)."""
    return not facts['test.flip'] and len(facts['test.scales']) == 1


# -- published vocabulary (mmdet 2 / mmseg 0 / mmcv 1) ------------------------------------------

def _published_transform(t, task):
    fact = _shared_transform(t, task)
    if fact is not MISSING:
        return fact
    kind = t['type']
    if kind == 'Resize':
        keep = t.get('keep_ratio', True)
        scales = t['img_scale']
        if t.get('ratio_range') is not None:
            return ['resize_ratio', scale_of(scales, keep), list(t['ratio_range']), keep]
        if isinstance(scales, list) and len(scales) > 1:
            mode = t.get('multiscale_mode', 'range')
            return ['resize_' + ('choice' if mode == 'value' else 'range'),
                    [scale_of(s, keep) for s in scales], keep]
        return ['resize', scale_of(scales[0] if isinstance(scales, list) else scales, keep), keep]
    if kind == 'RandomFlip':
        ratio = t.get('flip_ratio', t.get('prob'))
        return ['flip', ratio or 0.0]
    if kind == 'AutoAugment':
        return ['choice', [published_pipeline(p, task) for p in t['policies']]]
    if kind == 'RandomCrop':
        return ['crop', t.get('crop_type', 'absolute'), list(t['crop_size']),
                t.get('allow_negative_crop', False), t.get('recompute_bbox', False)]
    raise ValueError(f'no published fact for transform {kind}')


def published_pipeline(pipeline, task):
    return [f for f in (_published_transform(t, task) for t in pipeline) if f is not None]


def _published_pad(pipeline):
    for t in pipeline:
        if t['type'] == 'Pad':
            return {k: _jsonable(v) for k, v in sorted(t.items()) if k != 'type'}
        if t['type'] == 'MultiScaleFlipAug':
            return _published_pad(t['transforms'])
    return None


def _published_normalize(pipeline):
    for t in pipeline:
        if t['type'] == 'Normalize':
            return [list(t['mean']), list(t['std']), t.get('to_rgb', True)]
        if t['type'] == 'MultiScaleFlipAug':
            return _published_normalize(t['transforms'])
    return None


# what the published segmentation/test.py --aug-test set on the test pipeline's
# MultiScaleFlipAug (the "multi-scale" numbers of single-scale configs)
AUG_TEST = dict(img_ratios=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75], flip=True)


def _published_test(pipeline, task, override=None):
    """Scales, flips and the inner transforms of the published MultiScaleFlipAug (with
    ``override`` set on it)."""
    (aug,) = [t for t in pipeline if t['type'] == 'MultiScaleFlipAug']
    aug = {**aug, **(override or {})}
    inner = [t for t in aug['transforms'] if t['type'] not in FORMAT_ONLY]
    keep = next(t.get('keep_ratio', True) for t in inner if t['type'] == 'Resize')
    scale = aug['img_scale']
    ratios = aug.get('img_ratios')
    if ratios is not None:  # mmseg 0.x / mmdet 2.x: the ratios scale img_scale
        scales = [scale_of((int(scale[0] * r), int(scale[1] * r)), keep) for r in ratios]
    else:
        scales = [scale_of(s, keep) for s in (scale if isinstance(scale, list) else [scale])]
    return dict(scales=scales, flip=bool(aug.get('flip', False)), keep_ratio=keep,
                to_multiple=[t.get('size_divisor', 32) for t in inner
                             if t['type'] == 'ResizeToMultiple'])


def _published_schedule(cfg):
    lr = cfg['lr_config']
    runner = cfg['runner']
    facts = {'schedule.by_epoch': runner['type'] == 'EpochBasedRunner',
             'schedule.length': runner.get('max_epochs', runner.get('max_iters')),
             'schedule.warmup': None}
    if lr.get('warmup'):
        facts['schedule.warmup'] = [lr['warmup'], lr['warmup_iters'], lr['warmup_ratio']]
    if lr['policy'] == 'step':
        facts['schedule.decay'] = ['step', list(lr['step']), lr.get('gamma', 0.1)] \
            if lr['step'] else None
    elif lr['policy'] == 'poly':
        facts['schedule.decay'] = ['poly', lr.get('power', 1.0), lr.get('min_lr', 0.0)]
    else:
        raise ValueError(f"no published fact for lr policy {lr['policy']}")
    return facts


def published_facts(cfg, task):
    """The facts of a published config (a plain dict, as mmengine parses it) of ``task``
    ('det' or 'seg')."""
    model = cfg['model']
    backbone = dict(model['backbone'])
    facts = {'backbone.composite': backbone['type'] == 'CBInternImage'}
    defaults = PUBLISHED_FLASH_DEFAULTS if backbone['type'] == 'FlashInternImage' else \
        PUBLISHED_BACKBONE_DEFAULTS
    options = {**defaults, **backbone}
    for key in BACKBONE_OPTIONS:
        facts[f'backbone.{key}'] = _jsonable(options[key])
    out_indices = _jsonable(options.get('out_indices', [0, 1, 2, 3]))
    if facts['backbone.composite']:  # per trunk; the detector sees the lead trunk's
        out_indices = out_indices[-1]
    facts['backbone.out_indices'] = out_indices
    facts.update(start_and_head_facts(cfg, model, task))
    optimizer = cfg['optimizer']
    facts.update(optimizer_facts(optimizer, optimizer.get('paramwise_cfg'),
                                 (cfg.get('optimizer_config') or {}).get('grad_clip')))
    facts.update(_published_schedule(cfg))
    facts['amp'] = cfg.get('fp16') is not None
    facts['ema'] = ema_fact(cfg, 'ExpMomentumEMAHook')
    data = cfg['data']
    facts['batch_per_gpu'] = data['samples_per_gpu']
    wrappers, train_set = dataset_and_wrappers(data['train'])
    facts['train.wrappers'] = wrappers
    train_pipeline = train_set['pipeline']
    facts['train.pipeline'] = published_pipeline(train_pipeline, task)
    facts['train.normalize'] = _published_normalize(train_pipeline)
    facts['train.pad'] = _published_pad(train_pipeline)
    if task == 'seg':
        facts['reduce_zero_label'] = reduces_zero_label(train_set)
    _, test_set = dataset_and_wrappers(data['test'])
    test_pipeline = test_set['pipeline']
    facts['test.normalize'] = _published_normalize(test_pipeline)
    facts['test.pad'] = _published_pad(test_pipeline)
    for key, value in _published_test(test_pipeline, task).items():
        facts[f'test.{key}'] = value
    if task == 'seg' and tests_one_scale(facts):
        for key, value in _published_test(test_pipeline, task, AUG_TEST).items():
            facts[f'tta.{key}'] = value
    evaluation = cfg.get('evaluation') or {}
    metric = evaluation.get('metric')
    facts['eval.metric'] = sorted(metric) if isinstance(metric, list) else [metric]
    return facts


# -- our vocabulary (mmengine / mmdet 3 / mmseg 1) ---------------------------------------------

def _our_transform(t, task):
    fact = _shared_transform(t, task)
    if fact is not MISSING:
        return fact
    kind = t['type']
    keep = t.get('keep_ratio', False)
    if kind == 'Resize':
        return ['resize', scale_of(t['scale'], keep), keep]
    if kind == 'RandomResize':
        if t.get('ratio_range') is not None:
            return ['resize_ratio', scale_of(t['scale'], keep), list(t['ratio_range']), keep]
        return ['resize_range', [scale_of(s, keep) for s in t['scale']], keep]
    if kind == 'RandomChoiceResize':
        return ['resize_choice', [scale_of(s, keep) for s in t['scales']], keep]
    if kind == 'RandomFlip':
        return ['flip', t.get('prob') or 0.0]
    if kind == 'RandomChoice':
        return ['choice', [our_pipeline(p, task) for p in t['transforms']]]
    if kind == 'RandomCrop':
        size = list(t['crop_size'])  # mmdet 3 takes (w, h) where mmdet 2 took (h, w) ...
        crop_type = t.get('crop_type', 'absolute')
        if not crop_type.endswith('_range'):  # ... except for a (min, max) range
            size = size[::-1]
        return ['crop', crop_type, size,
                t.get('allow_negative_crop', False), t.get('recompute_bbox', False)]
    raise ValueError(f'no fact for transform {kind}')


def our_pipeline(pipeline, task):
    return [f for f in (_our_transform(t, task) for t in pipeline) if f is not None]


def _our_test(pipeline, task):
    """Scales, flips and resizing of our test pipeline, TestTimeAug or single scale."""
    tta = [t for t in pipeline if t['type'] == 'TestTimeAug']
    if tta:
        groups = tta[0]['transforms']
        resizes = next(g for g in groups if g[0]['type'] == 'Resize')
        flips = next((g for g in groups if g[0]['type'] == 'RandomFlip'), [])
        inner = [t for g in groups if g is not resizes and g is not flips for t in g]
    else:
        resizes = [t for t in pipeline if t['type'] == 'Resize']
        flips, inner = [], pipeline
    keep = resizes[0].get('keep_ratio', False)
    scales = [scale_of(t['scale'], keep) if t.get('scale') is not None
              else ['scale_factor', t['scale_factor']] for t in resizes]
    return dict(scales=scales, flip=any(t.get('prob') for t in flips), keep_ratio=keep,
                to_multiple=[t.get('size_divisor', 32) for t in inner
                             if t['type'] == 'ResizeToMultiple'])


def _our_schedule(cfg):
    loop = cfg['train_cfg']
    by_epoch = 'max_epochs' in loop
    facts = {'schedule.by_epoch': by_epoch,
             'schedule.length': loop['max_epochs'] if by_epoch else loop['max_iters'],
             'schedule.warmup': None, 'schedule.decay': None}
    for scheduler in cfg['param_scheduler']:
        kind, begin = scheduler['type'], scheduler.get('begin', 0)
        # mmengine's schedulers reach their last value at end - 1; mmcv's warm-up and poly
        # at the iteration count they were given
        if kind == 'LinearLR' and not scheduler.get('by_epoch', True) and begin == 0:
            facts['schedule.warmup'] = ['linear', scheduler['end'] - 1,
                                        scheduler['start_factor']]
        elif kind == 'MultiStepLR':
            facts['schedule.decay'] = ['step', list(scheduler['milestones']),
                                       scheduler.get('gamma', 0.1)]
        elif kind == 'PolyLR':
            # the published poly ran from iteration 0 to the end, the warmup multiplying it
            # during its iterations; a later begin or an earlier end is another curve
            decay = ['poly', scheduler.get('power', 1.0), scheduler.get('eta_min', 0.0)]
            span = [begin, scheduler.get('end', facts['schedule.length'] + 1) - 1]
            facts['schedule.decay'] = decay if span == [0, facts['schedule.length']] else \
                decay + ['from, to', span]
        else:
            raise ValueError(f'no fact for scheduler {scheduler}')
    return facts


def _our_pad(preprocessor, task, train):
    if task == 'det':
        divisor = preprocessor.get('pad_size_divisor', 1)
        return {'size_divisor': divisor} if divisor > 1 else None
    if not train:
        test_cfg = preprocessor.get('test_cfg') or {}
        return {k: _jsonable(v) for k, v in sorted(test_cfg.items())} or None
    pad = {'pad_val': preprocessor.get('pad_val', 0),
           'seg_pad_val': preprocessor.get('seg_pad_val', 255)}
    if preprocessor.get('size') is not None:
        pad['size'] = list(preprocessor['size'])
    if preprocessor.get('size_divisor') is not None:
        pad['size_divisor'] = preprocessor['size_divisor']
    return dict(sorted(pad.items()))


def our_facts(cfg):
    """The facts of one of our configs (an mmengine Config or its dict), as it runs."""
    from internimage.models.variants import MODEL_PREFIX, with_arch
    cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg
    model = cfg['model']
    if model['type'] in ('SegTTAModel', 'DetTTAModel'):
        model = model['module']
    task = 'det' if model['data_preprocessor']['type'] == 'DetDataPreprocessor' else 'seg'
    backbone = dict(model['backbone'])
    facts = {'backbone.composite': backbone['type'] == 'CBInternImage'}
    backbone_class = _backbone_class(backbone['type'])
    prefix = getattr(backbone_class, 'variant_prefix', MODEL_PREFIX)
    options = with_arch(backbone.pop('arch', None), backbone, False, prefix)
    defaults = {name: p.default for name, p in inspect.signature(
        _trunk_class().__init__).parameters.items() if p.default is not inspect.Parameter.empty}
    defaults.update(getattr(backbone_class, 'family_defaults', {}))
    for key in BACKBONE_OPTIONS:
        facts[f'backbone.{key}'] = _jsonable(options.get(key, defaults.get(key)))
    backbone_defaults = {'InternImage': [0, 1, 2, 3], 'FlashInternImage': [0, 1, 2, 3],
                         'CBInternImage': [1, 2, 3]}
    facts['backbone.out_indices'] = _jsonable(
        options.get('out_indices', backbone_defaults[backbone['type']]))
    facts.update(start_and_head_facts(cfg, model, task))
    wrapper = cfg['optim_wrapper']
    facts.update(optimizer_facts(wrapper['optimizer'], wrapper.get('paramwise_cfg'),
                                 wrapper.get('clip_grad')))
    facts.update(_our_schedule(cfg))
    facts['amp'] = wrapper.get('type') == 'AmpOptimWrapper'
    facts['ema'] = ema_fact(cfg, 'EMAHook')
    loader = cfg['train_dataloader']
    facts['batch_per_gpu'] = loader['batch_size']
    wrappers, train_set = dataset_and_wrappers(loader['dataset'])
    facts['train.wrappers'] = wrappers
    facts['train.pipeline'] = our_pipeline(train_set['pipeline'], task)
    preprocessor = model['data_preprocessor']
    normalize = [list(preprocessor['mean']), list(preprocessor['std']),
                 preprocessor.get('bgr_to_rgb', False)]
    facts['train.normalize'] = facts['test.normalize'] = normalize
    facts['train.pad'] = _our_pad(preprocessor, task, train=True)
    if task == 'seg':
        facts['reduce_zero_label'] = reduces_zero_label(train_set)
    facts['test.pad'] = _our_pad(preprocessor, task, train=False)
    _, test_set = dataset_and_wrappers(cfg['test_dataloader']['dataset'])
    for key, value in _our_test(test_set['pipeline'], task).items():
        facts[f'test.{key}'] = value
    if task == 'seg' and tests_one_scale(facts):
        for key, value in _our_test(cfg.get('tta_pipeline') or [], task).items():
            facts[f'tta.{key}'] = value
    evaluator = cfg['test_evaluator']
    evaluator = evaluator[0] if isinstance(evaluator, list) else evaluator
    metric = evaluator.get('metric', evaluator.get('iou_metrics', METRIC_DEFAULTS.get(
        evaluator['type'].split('.')[-1])))
    facts['eval.metric'] = sorted(metric) if isinstance(metric, list) else [metric]
    return facts


METRIC_DEFAULTS = {'VOCMetric': 'mAP', 'OpenImagesMetric': 'mAP', 'IoUMetric': ['mIoU']}


def _trunk_class():
    from internimage.models.internimage import InternImageTrunk
    return InternImageTrunk


def _backbone_class(name):
    import detection  # noqa: F401  (registers CBInternImage)
    from mmdet.registry import MODELS
    return MODELS.get(name)


def published_table(checkout):
    """{published config name: facts} for every detection and segmentation recipe of a
    published checkout."""
    from mmengine.config import Config
    table = {}
    for task in ('detection', 'segmentation'):
        for path in sorted(Path(checkout, task, 'configs').glob('*/*.py')):
            if path.parent.name.startswith('_'):
                continue
            cfg = Config.fromfile(str(path), import_custom_modules=False).to_dict()
            table[f'{task}/{path.parent.name}/{path.stem}'] = published_facts(
                cfg, 'det' if task == 'detection' else 'seg')
    return table


def table_text(table):
    """JSON with one fact per line, so that a change of the table reads as a change of facts."""
    recipes = []
    for name, facts in sorted(table.items()):
        lines = ',\n'.join(f'  {json.dumps(k)}: {json.dumps(v)}' for k, v in sorted(facts.items()))
        recipes.append(f' {json.dumps(name)}: {{\n{lines}\n }}')
    return '{\n' + ',\n'.join(recipes) + '\n}\n'


if __name__ == '__main__':
    sys.stdout.write(table_text({name: facts for checkout in sys.argv[1:]
                                 for name, facts in published_table(checkout).items()}))
