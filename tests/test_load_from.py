"""``load_from`` in training starts from the weights it names: a published release is converted
in memory into the config's model (mmengine alone would find none of its names and train from
random weights, exit 0), a checkpoint of which nothing fits is refused before anything is built,
and entries of other shapes (a head with other classes) are reported, as published fine-tunes
start."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, MODELS

from internimage.engine import UsageError
from internimage.engine.released import IN_MEMORY, start_from
from published_data import SHRUNK, load_fixture, our_config
from tool_scripts import run_tool

CLASSIFICATION = 'configs/classification/demo/internimage_demo_shapes.py'


def built(cfg):
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope') or 'mmengine'):
        return MODELS.build(cfg.model)


@pytest.fixture
def classification_release(tmp_path):
    """A published classification release of the demo's network: its bare state dict under
    'model' (names without our model's `classifier.`), random values."""
    torch.manual_seed(3)
    network = built(Config.fromfile(CLASSIFICATION)).classifier
    release = {name: torch.randn_like(value) if value.is_floating_point() else value
               for name, value in network.state_dict().items()}
    path = tmp_path / 'released.pth'
    torch.save({'model': release}, path)
    return path, release


def test_training_starts_from_a_release_converted_in_memory(classification_release, shapes_root,
                                                            tmp_path):
    """One epoch at lr 0 leaves the weights where they started: the release's own values."""
    path, release = classification_release
    work = tmp_path / 'work'
    result = run_tool('train.py', CLASSIFICATION, '--work-dir', work, '--cfg-options',
                      f'load_from={path}', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                      'optim_wrapper.optimizer.lr=0.0', 'param_scheduler=[]',
                      f'train_dataloader.dataset.data_root={shapes_root}',
                      f'val_dataloader.dataset.data_root={shapes_root}',
                      f'test_dataloader.dataset.data_root={shapes_root}')
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'load_from {path}: a released checkpoint, converted in memory' in result.stdout
    trained = torch.load(work / 'epoch_1.pth', weights_only=False)['state_dict']
    weights = [name for name, value in release.items()
               if value.is_floating_point() and 'running_' not in name]
    assert len(weights) > 20
    for name in weights:
        assert torch.equal(trained[f'classifier.{name}'], release[name]), name


def test_a_checkpoint_of_which_nothing_fits_is_refused_before_training(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': {'encoder.layer.0.weight': torch.ones(3)}}, path)
    work = tmp_path / 'work'
    result = run_tool('train.py', CLASSIFICATION, '--work-dir', work, '--cfg-options',
                      f'load_from={path}')
    assert result.returncode == 1
    assert f'load_from {path}: none of its 1 entries fits the model' in result.stderr
    assert "unexpected keys (1): ['encoder.layer.0.weight']" in result.stderr
    assert 'nothing trained' in result.stderr and 'Traceback' not in result.stderr
    assert not work.exists()


def test_our_checkpoint_with_another_head_loads_what_fits(tmp_path, capsys):
    """A checkpoint of our model whose head has other classes: the rest loads (reported), as the
    published transfers start (e.g. VOC's 20 classes from an 80-class detector)."""
    cfg = Config.fromfile(CLASSIFICATION)
    state_dict = built(cfg).state_dict()
    state_dict['classifier.head.weight'] = torch.zeros(7, state_dict[
        'classifier.head.weight'].shape[1])
    path = tmp_path / 'ours.pth'
    torch.save({'state_dict': state_dict}, path)
    cfg.load_from = str(path)
    start_from(cfg)
    assert cfg.load_from == str(path)  # mmengine reads it as it is
    printed = capsys.readouterr().out
    assert 'a checkpoint of this model' in printed and 'classifier.head.weight' in printed
    state_dict = {'classifier.head.weight': state_dict['classifier.head.weight']}
    torch.save({'state_dict': state_dict}, path)
    with pytest.raises(UsageError, match='none of its 1 entries fits the model'):
        start_from(cfg)


@pytest.mark.parametrize('family, published_name, overrides, converted', [
    # DINO's published (mmdet 2.x custom) names differ from mmdet 3's: converted in memory
    ('dino', 'dino_4scale_internimage_t_1x_coco_layer_wise_lr',
     {'neck.in_channels': [64, 128, 256]}, True),
    # Mask R-CNN's are mmdet 3's already: mmengine reads the file itself
    ('mask_rcnn', 'mask_rcnn_internimage_t_fpn_1x_coco',
     {'neck.in_channels': [32, 64, 128, 256]}, False)])
def test_a_published_detector_release_starts_training_whole(tmp_path, family, published_name,
                                                            overrides, converted):
    """The published layout (the shrunk fixtures' names) into our config: every entry of the
    model gets its weight, through the reading under which all of them fit."""
    fixture = load_fixture(family)
    path = tmp_path / 'release.pth'
    torch.save({'state_dict': fixture['state_dict'], 'meta': {}}, path)
    cfg = Config.fromfile(our_config(published_name))
    cfg.model.backbone.update(SHRUNK)
    cfg.merge_from_dict({f'model.{k}': v for k, v in overrides.items()})
    cfg.load_from = str(path)
    start_from(cfg)
    from mmengine.runner.checkpoint import CheckpointLoader
    assert cfg.load_from == (IN_MEMORY + str(path) if converted else str(path))
    served = CheckpointLoader.load_checkpoint(cfg.load_from)['state_dict']
    built(cfg).load_state_dict(served, strict=True)  # every entry, right shapes
