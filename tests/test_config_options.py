"""--cfg-options are checked before anything is built: a key that matches no option of what it
sets (a parameter of the dict's type in the config's registry scope, following **kwargs to where
they go; an entry the runner reads at the top level) is refused with the closest valid name,
malformed options and a non-positive --throughput are argument errors, and valid overrides
(lists, _delete_, new top-level entries, hooks by new names) still apply. The launchers are run
as subprocesses on the demo configs."""
import re

import pytest

from internimage.engine import UsageError
from internimage.engine.config import check_overrides, load_config
from tool_scripts import load_tool, run_tool

CLASSIFICATION = 'configs/classification/demo/internimage_demo_shapes.py'
DETECTION = 'configs/detection/demo/mask_rcnn_internimage_demo_shapes.py'
UPERNET = 'configs/segmentation/demo/upernet_internimage_demo_shapes.py'
MASK2FORMER = 'configs/segmentation/demo/mask2former_internimage_demo_shapes.py'
DEMO_CONFIGS = [CLASSIFICATION, 'configs/classification/demo/internimage_demo_shapes_fsdp.py',
                DETECTION, UPERNET, MASK2FORMER]


@pytest.mark.parametrize('config, key, message', [
    (CLASSIFICATION, 'default_hooks.checkpoint.intervall',
     "CheckpointHook takes no parameter 'intervall' (did you mean 'interval'?)"),
    (CLASSIFICATION, 'train_cfg.max_epoch',  # untyped: the runner's EpochBasedTrainLoop
     "EpochBasedTrainLoop takes no parameter 'max_epoch' (did you mean 'max_epochs'?)"),
    (CLASSIFICATION, 'train_dataloader.num_worker',
     "DataLoader takes no parameter 'num_worker' (did you mean 'num_workers'?)"),
    (CLASSIFICATION, 'model.classifier.drop_path_rat',  # **options passed on to the trunk
     "InternImageClassifier takes no parameter 'drop_path_rat' (did you mean "
     "'drop_path_rate'?)"),
    (CLASSIFICATION, 'param_scheduler.0.start_factr',
     "LinearLR takes no parameter 'start_factr' (did you mean 'start_factor'?)"),
    (CLASSIFICATION, 'param_scheduler.2.begin', 'param_scheduler is a list with indices 0 to 1'),
    (CLASSIFICATION, 'custom_hooks.0.priority', 'custom_hooks is a list with no entries'),
    (CLASSIFICATION, 'env_cfg.resource_limt', "did you mean 'resource_limit'?"),
    (CLASSIFICATION, 'trian_cfg.max_epochs',
     "the config has no entry 'trian_cfg' and the runner reads none (did you mean "
     "'train_cfg'?)"),
    (CLASSIFICATION, 'model.label_smoothing.x', 'model.label_smoothing is 0.1 in the config'),
    (DETECTION, 'model.rpn_head.feat_channel',
     "RPNHead takes no parameter 'feat_channel' (did you mean 'feat_channels'?)"),
    (DETECTION, 'train_dataloader.dataset.pipeline.2.scal',
     "Resize takes no parameter 'scal' (did you mean 'scale'?)"),
    (DETECTION, 'model.backbone.drop_path_rat', "InternImage takes no parameter"),
    (UPERNET, 'model.auxiliary_head.in_chanels',
     "FCNHead takes no parameter 'in_chanels' (did you mean 'in_channels'?)"),
    (UPERNET, 'train_cfg.max_iter',
     "IterBasedTrainLoop takes no parameter 'max_iter' (did you mean 'max_iters'?)"),
])
def test_unknown_keys_are_refused_with_the_closest_name(config, key, message):
    with pytest.raises(UsageError) as error:
        load_config(config, {key: 1})
    assert str(error.value).startswith('--cfg-options ')
    assert message in str(error.value)


def test_valid_overrides_apply():
    cfg = load_config(CLASSIFICATION, {
        'default_hooks.checkpoint.interval': 3,
        'model.classifier.drop_path_rate': 0.3,  # InternImageClassifier(**options) -> trunk
        'model.classifier.use_clip_projector': False,  # popped from its **options
        'train_cfg.val_begin': 4,  # new key of the untyped train loop
        'param_scheduler.1.eta_min': 0.5,
        'train_dataloader.dataset.transform.ratio': (1.0, 1.0),  # timm's create_transform
        'default_hooks.ema.type': 'EMAHook',  # a hook under a new name
        'model_wrapper_cfg.find_unused_parameters': True,  # new top-level runner entries
        'compile': True,
        'randomness.diff_rank_seed': True})
    assert cfg.default_hooks.checkpoint.interval == 3
    assert cfg.model.classifier.drop_path_rate == 0.3
    assert cfg.train_cfg.val_begin == 4 and cfg.param_scheduler[1].eta_min == 0.5
    assert cfg.train_dataloader.dataset.transform.ratio == (1.0, 1.0)
    assert cfg.default_hooks.ema.type == 'EMAHook'
    assert cfg.model_wrapper_cfg.find_unused_parameters is True and cfg.compile is True


def test_a_new_type_must_take_the_kept_keys_unless_the_entry_is_deleted():
    with pytest.raises(UsageError, match=r"SGD takes no parameter 'betas' \(kept from the "
                                         r"config; .*optim_wrapper.optimizer._delete_=True"):
        load_config(CLASSIFICATION, {'optim_wrapper.optimizer.type': 'SGD'})
    cfg = load_config(CLASSIFICATION, {
        'optim_wrapper.optimizer._delete_': True, 'optim_wrapper.optimizer.type': 'SGD',
        'optim_wrapper.optimizer.lr': 0.1, 'optim_wrapper.optimizer.momentum': 0.9})
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.1, momentum=0.9)
    with pytest.raises(UsageError, match="SGD takes no parameter 'betas'"):
        load_config(CLASSIFICATION, {'optim_wrapper.optimizer._delete_': True,
                                     'optim_wrapper.optimizer.type': 'SGD',
                                     'optim_wrapper.optimizer.betas': (0.9, 0.99)})


def typed_entries(node, path=''):
    """(dotted path, type) of every dict with a type in a config, lists included."""
    if isinstance(node, dict):
        if 'type' in node and path:
            yield path, node['type']
        items = node.items()
    elif isinstance(node, list):
        items = ((str(i), value) for i, value in enumerate(node))
    else:
        return
    for key, value in items:
        yield from typed_entries(value, f'{path}.{key}' if path else key)


@pytest.mark.parametrize('config', DEMO_CONFIGS)
def test_every_typed_entry_of_the_demo_configs_takes_the_keys_it_has(config):
    """Re-stating a dict's own type re-checks all its keys against that type: the checker
    knows the parameters of every class the configs use (through their **kwargs too), and
    no config states a key its class ignores (the published Mask2Former's 'strides', which
    mmdet 3's head takes through **kwargs and drops, is left out of ours)."""
    cfg = load_config(config)
    entries = list(typed_entries(dict(cfg.items())))
    assert len(entries) > 5
    refused = []
    for path, type_name in entries:
        try:
            check_overrides(cfg, {f'{path}.type': type_name})
        except UsageError as error:
            refused.append(str(error).split(':')[0])
    assert refused == []


@pytest.mark.parametrize('option, message', [
    ('default_hooks.checkpoint.intervall=1', "--cfg-options default_hooks.checkpoint.intervall: "
     "CheckpointHook takes no parameter 'intervall' (did you mean 'interval'?)"),
    ('train_cfg.max_epochs=-1', '--cfg-options train_cfg.max_epochs: must be an integer >= 1, '
     'got -1'),
    ('train_cfg.max_epochs=abc', "--cfg-options train_cfg.max_epochs: expects a number (the "
     "config has 50), got 'abc'"),
    ('default_hooks.checkpoint.interval=abc', '--cfg-options default_hooks.checkpoint.interval: '
     "expects a number")])
def test_train_refuses_a_wrong_option_before_training(tmp_path, option, message):
    work = tmp_path / 'work'
    result = run_tool('train.py', CLASSIFICATION, '--work-dir', work, '--cfg-options', option)
    assert result.returncode != 0
    assert message in result.stderr
    assert 'Traceback' not in result.stderr and not work.exists()


@pytest.mark.parametrize('config, options, message', [
    (CLASSIFICATION, {'train_dataloader.batch_size': 0}, 'must be an integer >= 1, got 0'),
    (CLASSIFICATION, {'train_dataloader.num_workers': -1}, 'must be an integer >= 0, got -1'),
    (DETECTION, {'model.data_preprocessor.bgr_to_rgb': 'yes'},
     "expects true or false (the config has True), got 'yes'"),
    # keys the config lacks: the kind of the parameter's default
    (CLASSIFICATION, {'train_cfg.val_begin': 'abc'},
     "--cfg-options train_cfg.val_begin: expects a number (its default is 1), got 'abc'"),
    (DETECTION, {'default_hooks.checkpoint.save_last': 'no'},
     "expects true or false (its default is True), got 'no'"),
    # the model's untyped sub-dicts: keys mmdet/mmseg read without checking
    (DETECTION, {'model.test_cfg.rcnn.max_per_imgg': 1},
     "model.test_cfg.rcnn has no entry 'max_per_imgg' (did you mean 'max_per_img'?)"),
    (UPERNET, {'model.test_cfg.mode': 'slide', 'model.test_cfg.crop_size': (64, 64)},
     "model.test_cfg has no entry 'crop_size'")])
def test_wrong_values_and_unread_model_keys_are_refused(config, options, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        load_config(config, options)


def test_values_of_the_right_kind_and_replaced_model_dicts_apply():
    cfg = load_config(CLASSIFICATION, {'default_hooks.checkpoint.interval': -1,  # never
                                       'optim_wrapper.optimizer.lr': 1,  # an int for a float
                                       'train_cfg.max_epochs': 3})
    assert cfg.default_hooks.checkpoint.interval == -1 and cfg.train_cfg.max_epochs == 3
    slide = {'model.test_cfg._delete_': True, 'model.test_cfg.mode': 'slide',
             'model.test_cfg.crop_size': (64, 64), 'model.test_cfg.stride': (32, 32)}
    assert load_config(UPERNET, slide).model.test_cfg == dict(
        mode='slide', crop_size=(64, 64), stride=(32, 32))


@pytest.mark.parametrize('option, message', [
    ('train_cfg.max_epochs', "'train_cfg.max_epochs' is not KEY=VALUE"),
    ('=1', "'=1' has an empty key or key part")])
def test_malformed_options_are_argument_errors(tmp_path, option, message):
    result = run_tool('train.py', CLASSIFICATION, '--work-dir', tmp_path / 'work',
                      '--cfg-options', option)
    assert result.returncode == 2  # argparse's usage error, before the config is read
    assert f'argument --cfg-options: {message}' in result.stderr
    assert not (tmp_path / 'work').exists()


def test_an_empty_key_part_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as error:
        load_tool('train').parse_args([CLASSIFICATION, '--cfg-options', 'a.b=1',
                                       'train_cfg..max_epochs=1'])
    assert error.value.code == 2
    assert "'train_cfg..max_epochs=1' has an empty key or key part" in capsys.readouterr().err
    args = load_tool('train').parse_args([CLASSIFICATION, '--cfg-options', 'a.b=[1,2]'])
    assert args.cfg_options == {'a.b': [1, 2]}  # mmengine's value parsing is kept


@pytest.mark.parametrize('batches', ['0', '-3'])
def test_throughput_needs_a_positive_number_of_batches(tmp_path, batches):
    result = run_tool('test.py', CLASSIFICATION, tmp_path / 'missing.pth', '--work-dir',
                      tmp_path / 'work', f'--throughput={batches}')
    assert result.returncode == 2
    assert 'argument --throughput:' in result.stderr
    assert f'must be a positive integer, got {batches}' in result.stderr
    assert not (tmp_path / 'work').exists()


def test_get_flops_takes_the_same_checked_options():
    result = run_tool('get_flops.py', CLASSIFICATION, '--cfg-options',
                      'model.classifier.channel=8')
    assert result.returncode != 0
    assert "InternImageClassifier takes no parameter 'channel' (did you mean 'channels'?)" in \
        result.stderr
