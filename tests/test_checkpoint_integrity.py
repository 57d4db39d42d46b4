"""No damaged, partial or foreign checkpoint is used silently: every entry point (our loader,
mmengine's load_from/init_cfg through it, --resume, the Predictor and the tools) verifies the
file before use and names it, with why, when it is truncated, empty, random bytes, a web page,
has flipped bytes inside a tensor (only the zip CRC sees those) or is no checkpoint; tools/test.py
refuses weights that do not fit the model unless --allow-partial; a run resumes only from a
training checkpoint. Unsafe content is still refused as unsafe."""
import json
import os
import pickle
import random
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint as mmengine_load_checkpoint

import internimage.engine  # noqa: F401  (installs our loader into mmengine)
import classification  # noqa: F401  (registers ImageClassificationModel)
from internimage.engine.atomic_checkpoints import resume_problem
from classification import Predictor
from internimage.models import create_backbone, load_checkpoint, read_checkpoint
from internimage.models.variants import arch_options
from internimage.models.weights_only import DamagedCheckpointError, UnsafeCheckpointError
from tool_scripts import load_tool, run_tool

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / 'configs' / 'classification' / 'demo' / 'internimage_demo_shapes.py'
# the demo config's network: the unpublished test variant with two blocks at level 2
TINY = dict(arch_options('test'), depths=(1, 1, 2, 1))
HEAD = 'classifier.head.weight'
# Why each kind of damage is refused, as the message says it.
DAMAGE = {'truncated': 'truncated or corrupted zip archive', 'empty': 'the file is empty',
          'random': 'not a checkpoint: neither a zip archive',
          'html': "a web page saved by a failed download",
          'crc': 'fails its CRC-32 check'}


def demo_model(num_classes=6):
    torch.manual_seed(0)
    model_cfg = Config.fromfile(str(DEMO_CONFIG)).model
    model_cfg.classifier.num_classes = num_classes
    return MODELS.build(model_cfg)


def save_training_like(path, state_dict, **extra):
    torch.save({'state_dict': state_dict, 'meta': {}, **extra}, path)
    return path


def tensor_member(path):
    """(name, offset, size) of the largest tensor record's bytes in a torch zip checkpoint."""
    with zipfile.ZipFile(path) as archive:
        info = max((i for i in archive.infolist() if '/data/' in i.filename),
                   key=lambda i: i.file_size)
    with open(path, 'rb') as file:
        file.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack('<HH', file.read(4))
    return info.filename, info.header_offset + 30 + name_length + extra_length, info.file_size


def write_damaged(kind, good, target):
    data = good.read_bytes()
    if kind == 'truncated':
        target.write_bytes(data[:len(data) // 2])
    elif kind == 'empty':
        target.write_bytes(b'')
    elif kind == 'random':
        target.write_bytes(random.Random(0).randbytes(4096))
    elif kind == 'html':
        target.write_bytes(b'<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>'
                           b'<body>The requested file was not found.</body></html>\n')
    else:  # crc: the sign/exponent byte of two float32 values in the middle of a tensor
        _, offset, size = tensor_member(good)
        flipped, middle = bytearray(data), offset + size // 8 * 4
        for index in (middle + 3, middle + 7):
            flipped[index] ^= 0x7f
        target.write_bytes(bytes(flipped))
    return target


@pytest.fixture(scope='module')
def good(tmp_path_factory):
    return save_training_like(tmp_path_factory.mktemp('good') / 'good.pth',
                              demo_model().state_dict())


@pytest.fixture(params=sorted(DAMAGE))
def damaged(request, good, tmp_path):
    return request.param, write_damaged(request.param, good, tmp_path / f'{request.param}.pth')


def assert_refused_as_damaged(call, kind, path):
    with pytest.raises(DamagedCheckpointError) as refused:
        call()
    assert str(refused.value).startswith(f'damaged checkpoint {path}: ')
    assert DAMAGE[kind] in str(refused.value)


def test_flipped_tensor_bytes_load_in_torch_but_fail_the_crc(good, tmp_path):
    bad = write_damaged('crc', good, tmp_path / 'crc.pth')
    name, _, _ = tensor_member(good)
    # torch reads the flipped file without a word, with different weights: only the CRC tells
    flipped = torch.load(bad, weights_only=True)['state_dict']
    original = torch.load(good, weights_only=True)['state_dict']
    changed = [k for k in original if not torch.equal(original[k], flipped[k])]
    assert len(changed) == 1 and (original[changed[0]] - flipped[changed[0]]).abs().max() > 100
    with pytest.raises(DamagedCheckpointError, match=f'member {name} fails its CRC-32 check'):
        read_checkpoint(bad)


def test_every_loader_refuses_each_kind_of_damage(damaged):
    kind, path = damaged
    model = demo_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert_refused_as_damaged(lambda: load_checkpoint(model.classifier, path), kind, path)
    # mmengine's load_from and Pretrained init_cfgs it handles go through our loader
    assert_refused_as_damaged(lambda: mmengine_load_checkpoint(model, str(path)), kind, path)
    backbone = create_backbone('internimage_t', **TINY,
                               init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    assert_refused_as_damaged(backbone.init_weights, kind, path)
    assert_refused_as_damaged(lambda: Predictor.from_variant('internimage_t', path, **TINY,
                                                             num_classes=6), kind, path)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    problem = resume_problem(path)
    assert problem.startswith(f'damaged checkpoint {path}: ') and DAMAGE[kind] in problem


def test_test_tool_refuses_each_kind_before_building_anything(damaged, tmp_path):
    kind, path = damaged
    work = tmp_path / 'work'
    with pytest.raises(SystemExit) as refused:
        load_tool('test').main([str(DEMO_CONFIG), str(path), '--work-dir', str(work)])
    assert str(refused.value.code).startswith(f'damaged checkpoint {path}: ')
    assert DAMAGE[kind] in str(refused.value.code)
    assert not work.exists()


def test_files_that_are_no_checkpoint_are_damaged(tmp_path):
    foreign = tmp_path / 'foreign.pth'
    with zipfile.ZipFile(foreign, 'w') as archive:
        archive.writestr('photos/cat.jpg', b'\xff\xd8\xff')
    with pytest.raises(DamagedCheckpointError, match='a zip archive but not a torch checkpoint'):
        read_checkpoint(foreign)
    tensor = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), tensor)
    with pytest.raises(DamagedCheckpointError, match='it holds a Tensor, not a checkpoint'):
        read_checkpoint(tensor)


def test_legacy_format_loads_with_a_warning_and_its_truncation_is_damage(good, tmp_path):
    legacy = tmp_path / 'legacy.pth'
    state_dict = torch.load(good, weights_only=True)['state_dict']
    torch.save({'state_dict': state_dict}, legacy, _use_new_zipfile_serialization=False)
    with pytest.warns(UserWarning, match='legacy format, which has no checksums'):
        loaded = read_checkpoint(legacy)
    assert torch.equal(loaded['state_dict'][HEAD], state_dict[HEAD])
    data = legacy.read_bytes()
    legacy.write_bytes(data[:len(data) - 100])
    with pytest.raises(DamagedCheckpointError, match="truncated or corrupted data in torch's "
                                                     'legacy format'):
        read_checkpoint(legacy)


class RunsCodeOnLoad:
    def __reduce__(self):
        return os.system, ('true',)


def test_unsafe_content_is_refused_as_unsafe_not_as_damaged(tmp_path):
    zipped, plain = tmp_path / 'evil.pth', tmp_path / 'evil_pickle.pth'
    torch.save({'state_dict': {}, 'meta': RunsCodeOnLoad()}, zipped)
    plain.write_bytes(pickle.dumps({'meta': RunsCodeOnLoad()}))
    with pytest.raises(UnsafeCheckpointError, match='unsupported GLOBAL posix.system') as refused:
        read_checkpoint(zipped)
    assert 'damaged' not in str(refused.value)
    with pytest.raises(UnsafeCheckpointError, match='a plain pickle, not a torch checkpoint'):
        read_checkpoint(plain)


def text(value):
    """A pickle BINUNICODE push of the string ``value``."""
    data = value.encode()
    return b'X' + struct.pack('<I', len(data)) + data


def pickled_call(function, *arguments):
    """Pickle opcodes that call ``function`` (opcodes) with ``arguments`` (opcodes): a REDUCE."""
    return function + b'(' + b''.join(arguments) + b'tR'


def getattr_gadget(marker):
    """Hand-written pickle opcodes (protocol 2, which torch's unpickler reads) that, unpickled
    with ``builtins.getattr`` allowed, reach ``exec`` from an allowed function's ``__globals__``
    and create ``marker``: getattr(getattr(getattr(_rebuild_tensor_v2, '__globals__'),
    'get')('__builtins__'), 'get')('exec')(code). Never unpickled here outside the loader."""
    def attribute(owner, name):
        return pickled_call(b'cbuiltins\ngetattr\n', owner, text(name))
    rebuild = b'ctorch._utils\n_rebuild_tensor_v2\n'
    builtins_dict = pickled_call(attribute(attribute(rebuild, '__globals__'), 'get'),
                                 text('__builtins__'))
    run = pickled_call(attribute(builtins_dict, 'get'), text('exec'))
    return pickled_call(run, text(f"open({str(marker)!r}, 'w').close()"))


def with_data_pickle(path, data):
    """Replaces the pickle (``data.pkl``) of the torch zip checkpoint at ``path`` by ``data``."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, 'w') as archive:
        for info, content in members:
            archive.writestr(info, data if info.filename.endswith('/data.pkl') else content)


def test_getattr_gadget_is_refused_as_code_naming_getattr_and_runs_nothing(tmp_path):
    marker = tmp_path / 'code_ran'
    gadget = (b'\x80\x02}(' + text('state_dict') + b'}' + text('meta') + getattr_gadget(marker)
              + b'u.')
    path = tmp_path / 'gadget.pth'
    torch.save({'state_dict': {}}, path)
    with_data_pickle(path, gadget)
    expected = (f'refused to load checkpoint {path}: it holds objects that weights-only loading '
                'does not allow (Unsupported global: GLOBAL builtins.getattr ')
    with pytest.raises(UnsafeCheckpointError) as refused:
        read_checkpoint(path)
    message = str(refused.value)
    assert message.startswith(expected) and "'__globals__'" in message, message
    assert 'could run arbitrary code' in message
    work = tmp_path / 'work'
    with pytest.raises(SystemExit) as refused:
        load_tool('test').main([str(DEMO_CONFIG), str(path), '--work-dir', str(work)])
    assert str(refused.value.code).startswith(expected), refused.value.code
    assert 'damaged' not in str(refused.value.code)
    assert not marker.exists() and not work.exists()


@pytest.mark.parametrize('protocol', [4, 5])
def test_protocol_4_and_5_checkpoints_are_refused_for_their_format_not_as_code(protocol, tmp_path):
    path = tmp_path / f'protocol{protocol}.pth'
    torch.save({'state_dict': {'weight': torch.ones(2, 3)}}, path, pickle_protocol=protocol)
    # torch's weights-only unpickler reads protocol 2 and 3 only (pytorch/pytorch#118092)
    with pytest.warns(UserWarning, match=f'pickle protocol {protocol}'), \
            pytest.raises(pickle.UnpicklingError, match='Unsupported operand 149'):
        torch.load(path, weights_only=True)
    expected = (f'refused to load checkpoint {path}: it is pickled with opcode FRAME (0x95) of '
                'pickle protocol 4, which ')
    with pytest.warns(UserWarning, match=f'pickle protocol {protocol}'), \
            pytest.raises(UnsafeCheckpointError) as refused:
        read_checkpoint(path)
    assert str(refused.value).startswith(expected), refused.value
    assert 'arbitrary code' not in str(refused.value)
    work = tmp_path / 'work'
    with pytest.warns(UserWarning, match=f'pickle protocol {protocol}'), \
            pytest.raises(SystemExit) as refused:
        load_tool('test').main([str(DEMO_CONFIG), str(path), '--work-dir', str(work)])
    assert str(refused.value.code).startswith(expected), refused.value.code
    assert 'arbitrary code' not in str(refused.value.code) and not work.exists()


def test_resume_from_weights_alone_says_what_is_missing(good, tmp_path):
    with pytest.raises(SystemExit) as refused:
        load_tool('train').apply_resume(Config({'work_dir': str(tmp_path)}), str(good))
    assert str(refused.value.code) == (
        f'--resume: {good} is not a training checkpoint: it has no message_hub, meta.epoch, '
        'meta.iter (weights alone start a run through load_from, not --resume)')


def test_test_tool_refuses_a_head_of_the_wrong_shape(tmp_path):
    path = save_training_like(tmp_path / 'ten.pth', demo_model(num_classes=10).state_dict())
    with pytest.raises(SystemExit) as refused:
        load_tool('test').main([str(DEMO_CONFIG), str(path), '--work-dir', str(tmp_path / 'w')])
    message = str(refused.value.code)
    assert f'{path} does not fit the model: shape-mismatched keys (2)' in message
    width = demo_model().state_dict()[HEAD].shape[1]
    assert f"('{HEAD}', (10, {width}), (6, {width}))" in message
    assert "('classifier.head.bias', (10,), (6,))" in message
    assert not (tmp_path / 'w').exists()


def test_tools_refuse_a_crc_flipped_checkpoint_and_write_nothing(good, tmp_path):
    path = write_damaged('crc', good, tmp_path / 'flipped.pth')
    expected = f'damaged checkpoint {path}: member '
    work, converted, onnx = tmp_path / 'work', tmp_path / 'converted.pth', tmp_path / 'x.onnx'
    runs = {'test': run_tool('test.py', DEMO_CONFIG, path, '--work-dir', work),
            'convert': run_tool('convert_checkpoint.py', path, converted),
            'export': run_tool('export.py', DEMO_CONFIG, path, '--out', onnx),
            'resume': run_tool('train.py', DEMO_CONFIG, '--work-dir', work,
                               '--resume', path)}
    for name, finished in runs.items():
        assert finished.returncode != 0, name
        assert expected in finished.stderr and 'CRC-32' in finished.stderr, finished.stderr
    assert not work.exists() and not converted.exists() and not onnx.exists()


def test_partial_checkpoint_is_refused_unless_allowed(shapes_root, tmp_path):
    state_dict = demo_model(num_classes=10).state_dict()
    missing = 'classifier.levels.0.blocks.0.dcn.offset.bias'
    del state_dict[missing]
    state_dict['classifier.extra.weight'] = torch.zeros(3)
    path = save_training_like(tmp_path / 'partial.pth', state_dict)
    work = tmp_path / 'work'
    options = ['--work-dir', work, '--cfg-options', 'test_dataloader.num_workers=0',
               f'test_dataloader.dataset.data_root={shapes_root}',
               'test_dataloader.dataset.transform.input_size=32']
    refused = run_tool('test.py', DEMO_CONFIG, path, *options)
    assert refused.returncode != 0
    for name in (missing, 'classifier.extra.weight', HEAD):
        assert name in refused.stderr, refused.stderr
    assert '--allow-partial evaluates it anyway' in refused.stderr
    assert not work.exists()
    allowed = run_tool('test.py', DEMO_CONFIG, path, '--allow-partial', *options)
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    assert (f'--allow-partial: evaluating with the weights that fit: {path} does not fit '
            'the model: missing keys (1)') in allowed.stdout
    metrics = json.loads((work / 'test_metrics.json').read_text())['metrics']
    assert 0 <= metrics['accuracy/top1'] <= metrics['accuracy/top5'] <= 100
