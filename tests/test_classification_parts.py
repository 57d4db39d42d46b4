"""The pieces of classification training one by one: layer-wise lr decay groups of a T model,
top-k accuracy, the data errors the dataset promises, the demo data generator, weights-only
loading of Runner state."""
import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.optim import build_optim_wrapper
from PIL import Image

from internimage.demo_data.classification import generate
from internimage.engine.layer_decay import parameter_layer_ids
from classification import ImageClassificationDataset, TopKAccuracy
from internimage.models import create_classifier

RATE = 0.9


@pytest.fixture(scope='module')
def t_optimizer():
    with torch.device('meta'):
        model = torch.nn.Module()
        model.classifier = create_classifier('internimage_t')
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
        constructor='InternImageLayerDecayConstructor',
        paramwise_cfg=dict(layer_decay_rate=RATE, offset_lr_scale=0.1)))
    groups = {}
    for group in wrapper.optimizer.param_groups:
        for name in group['param_names']:
            groups[name] = group
    return model, groups


def test_layer_ids_follow_the_published_rule(t_optimizer):
    model, _ = t_optimizer
    ids, num_layers = parameter_layer_ids(model)
    assert num_layers == 4 + 4 + 18 + 4 + 2
    assert ids['classifier.patch_embed.conv1.weight'] == 0
    assert ids['classifier.levels.0.blocks.0.dcn.offset.weight'] == 1
    assert ids['classifier.levels.2.blocks.3.mlp.fc1.weight'] == 1 + 8 + 3
    # A level's downsample and norm go with the first block of the next level.
    assert ids['classifier.levels.0.downsample.conv.weight'] == 1 + 4
    assert ids['classifier.levels.1.norm.0.weight'] == 1 + 8
    assert ids['classifier.levels.3.blocks.3.norm2.0.bias'] == 30
    assert ids['classifier.levels.3.norm.0.weight'] == 31
    assert ids['classifier.head.weight'] == ids['classifier.conv_head.0.weight'] == 31


def test_lr_and_weight_decay_per_parameter(t_optimizer):
    _, groups = t_optimizer
    assert groups['classifier.patch_embed.conv1.weight']['lr'] == pytest.approx(RATE ** 31)
    assert groups['classifier.levels.2.blocks.3.mlp.fc1.weight']['lr'] == \
        pytest.approx(RATE ** (32 - 12 - 1))
    assert groups['classifier.head.weight']['lr'] == pytest.approx(1.0)
    # The offset and mask projections (and only they) get offset_lr_scale on top.
    assert groups['classifier.levels.0.blocks.0.dcn.offset.weight']['lr'] == \
        pytest.approx(0.1 * RATE ** 30)
    assert groups['classifier.levels.0.blocks.0.dcn.mask.bias']['lr'] == \
        pytest.approx(0.1 * RATE ** 30)
    assert groups['classifier.levels.0.blocks.0.dcn.input_proj.weight']['lr'] == \
        pytest.approx(RATE ** 30)
    # No weight decay for biases and 1-D weights (norms), 0.05 for the rest.
    assert groups['classifier.levels.0.blocks.0.norm1.0.weight']['weight_decay'] == 0
    assert groups['classifier.head.bias']['weight_decay'] == 0
    assert groups['classifier.head.weight']['weight_decay'] == 0.05
    assert groups['classifier.levels.0.blocks.0.dcn.offset.weight']['weight_decay'] == 0.05


def test_layer_decay_post_norms_go_with_their_block():
    with torch.device('meta'):
        model = create_classifier('internimage_h')
    ids, num_layers = parameter_layer_ids(model)
    assert num_layers == 6 + 6 + 32 + 6 + 2
    assert ids['levels.2.post_norms.1.0.weight'] == ids['levels.2.blocks.11.norm1.0.weight'] \
        == 1 + 12 + 11


def test_layer_decay_refuses_unknown_keys_and_models_without_internimage():
    with pytest.raises(KeyError, match="unknown paramwise_cfg key.*'decay_rate'"):
        build_optim_wrapper(torch.nn.Linear(2, 2), dict(
            optimizer=dict(type='AdamW', lr=1.0), constructor='InternImageLayerDecayConstructor',
            paramwise_cfg=dict(decay_rate=0.9)))
    with pytest.raises(ValueError, match='holds no InternImage backbone'):
        build_optim_wrapper(torch.nn.Linear(2, 2), dict(
            optimizer=dict(type='AdamW', lr=1.0), constructor='InternImageLayerDecayConstructor',
            paramwise_cfg=dict(layer_decay_rate=0.9)))


def test_layer_decay_without_paramwise_cfg_keeps_the_optimizer_default_decay():
    with torch.device('meta'):
        model = create_classifier('internimage_t')
    wrapper = build_optim_wrapper(model, dict(
        optimizer=dict(type='AdamW', lr=1.0), constructor='InternImageLayerDecayConstructor'))
    decay = {name: group['weight_decay'] for group in wrapper.optimizer.param_groups
             for name in group['param_names']}
    assert decay['head.weight'] == 0.01  # AdamW's default
    assert decay['head.bias'] == decay['levels.0.blocks.0.norm1.0.weight'] == 0.0
    assert {group['lr'] for group in wrapper.optimizer.param_groups} == {1.0}  # rate 1.0


def test_topk_accuracy_counts_ranks():
    metric = TopKAccuracy(topk=(1, 2))
    scores = torch.tensor([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.1, 0.6, 0.3], [0.6, 0.3, 0.1]])
    labels = [0, 1, 2, 2]  # ranks 0, 1, 1, 2
    metric.process({}, [dict(pred_score=s, gt_label=y) for s, y in zip(scores, labels)])
    assert metric.compute_metrics(metric.results) == {'top1': 25.0, 'top2': 75.0}


def write_image(path, size=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((size, size, 3), np.uint8)).save(path)


def test_folder_and_file_list_layouts(tmp_path):
    for name in ('b_class', 'a_class'):
        for i in range(2):
            write_image(tmp_path / 'train' / name / f'{i}.png')
    folders = ImageClassificationDataset(str(tmp_path), 'train',
                                         transform=dict(input_size=8), test_mode=True)
    assert folders.classes == ['a_class', 'b_class']
    assert [label for _, label in folders.samples] == [0, 0, 1, 1]
    sample = folders[3]
    assert sample['inputs'].shape == (3, 8, 8) and sample['data_samples'] == 1
    (tmp_path / 'train.txt').write_text('b_class/1.png 1\na_class/0.png 0\n')
    listed = ImageClassificationDataset(str(tmp_path), 'train', ann_file='train.txt',
                                        transform=dict(input_size=8), test_mode=True)
    assert [label for _, label in listed.samples] == [1, 0]


def test_data_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder not found: .*missing'):
        ImageClassificationDataset(str(tmp_path), 'missing')
    write_image(tmp_path / 'train' / 'cat' / '0.png')
    (tmp_path / 'train' / 'dog').mkdir()
    with pytest.raises(ValueError, match='class folder .*dog holds no images'):
        ImageClassificationDataset(str(tmp_path), 'train')
    (tmp_path / 'train' / 'dog' / 'broken.png').write_bytes(b'not an image')
    dataset = ImageClassificationDataset(str(tmp_path), 'train', transform=dict(input_size=8))
    with pytest.raises(OSError, match='cannot read image .*broken.png'):
        dataset[1]
    (tmp_path / 'list.txt').write_text('cat/0.png zero\n')
    with pytest.raises(ValueError, match=r'list.txt:1: expected "relative/path label"'):
        ImageClassificationDataset(str(tmp_path), 'train', ann_file='list.txt')
    with pytest.raises(FileNotFoundError, match='file list not found'):
        ImageClassificationDataset(str(tmp_path), 'train', ann_file='nope.txt')


def test_demo_generator_is_deterministic_and_keeps_a_finished_set(tmp_path):
    first = tmp_path / 'a'
    generate(str(first), num_train_per_class=2, num_val_per_class=1, image_size=24, seed=3)
    generate(str(tmp_path / 'b'), num_train_per_class=2, num_val_per_class=1, image_size=24,
             seed=3)
    image = first / 'train' / 'star' / 'star_0001.png'
    assert image.read_bytes() == (tmp_path / 'b' / 'train' / 'star' / 'star_0001.png').read_bytes()
    assert len(list(first.glob('*/*/*.png'))) == 6 * 3
    stamp_time = (first / 'generated.json').stat().st_mtime_ns
    generate(str(first), num_train_per_class=2, num_val_per_class=1, image_size=24, seed=3)
    assert (first / 'generated.json').stat().st_mtime_ns == stamp_time
    with pytest.raises(ValueError, match='num_classes'):
        generate(str(tmp_path / 'c'), num_classes=1)


class AskForAttribute:
    """Pickles as ``getattr(owner, name)``, like a pickled method reference."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def test_runner_state_loads_weights_only_and_nothing_more(tmp_path):
    buffer = HistoryBuffer()
    for value in (1.0, 2.0, 6.0):
        buffer.update(value)
    torch.save({'loss': buffer, 'best': np.float64(0.5)}, tmp_path / 'hub.pth')
    loaded = torch.load(tmp_path / 'hub.pth', weights_only=True)
    assert loaded['loss'].mean() == pytest.approx(3.0) and loaded['loss'].max() == 6.0
    assert loaded['best'] == 0.5

    torch.save(AskForAttribute(HistoryBuffer, 'update'), tmp_path / 'other.pth')
    with pytest.raises(Exception, match="attribute 'update'"):
        torch.load(tmp_path / 'other.pth', weights_only=True)
