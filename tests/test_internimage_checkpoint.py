"""Checkpoint loading in every published layout (classification ``model``, mmdet/mmseg
``state_dict`` with ``backbone.`` and ``module.`` prefixes), the 22k->1k head mapping, reports of
what did not fit, the Pretrained init_cfg and the converter script."""
import logging

import numpy as np
import pytest
import torch

from internimage.models import (InternImage, create_backbone, extract_state_dict,
                                internimage_test, load_checkpoint, map_22k_to_1k, mm_checkpoint,
                                read_checkpoint)
from internimage.models.conversion import ConversionError, layout_for
from internimage.models.weights_only import UnsafeCheckpointError
from tool_scripts import run_tool


def tiny_classifier(seed, **overrides):
    torch.manual_seed(seed)
    model = internimage_test(**overrides)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model


def tiny_backbone(**overrides):
    torch.manual_seed(123)
    return create_backbone('internimage_test', **overrides)


def assert_same_weights(model, state_dict, prefix=''):
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state_dict[prefix + key], msg=key)


def test_classification_checkpoint_round_trip(tmp_path):
    source = tiny_classifier(0)
    path = tmp_path / 'cls.pth'
    torch.save({'model': source.state_dict(), 'epoch': 3, 'max_accuracy': 81.5}, path)
    target = tiny_classifier(1)
    report = load_checkpoint(target, path)
    assert report.clean and not report.ignored
    assert_same_weights(target, source.state_dict())


def test_ema_weights_are_chosen_on_request(tmp_path):
    plain, ema = tiny_classifier(0), tiny_classifier(1)
    path = tmp_path / 'cls.pth'
    torch.save({'model': plain.state_dict(), 'model_ema': ema.state_dict()}, path)
    target = tiny_classifier(2)
    load_checkpoint(target, path, use_ema=True)
    assert_same_weights(target, ema.state_dict())
    torch.save({'model': plain.state_dict()}, path)
    with pytest.raises(KeyError, match='model_ema'):
        load_checkpoint(target, path, use_ema=True)


@pytest.mark.parametrize('prefix', ['backbone.', 'module.backbone.'])
def test_detection_checkpoint_into_backbone(tmp_path, prefix):
    source = tiny_backbone()
    with torch.no_grad():
        for p in source.parameters():
            p.add_(1.0)
    state_dict = {prefix + k: v for k, v in source.state_dict().items()}
    state_dict[prefix.replace('backbone.', '') + 'neck.lateral_convs.0.conv.weight'] = \
        torch.zeros(8, 16, 1, 1)
    state_dict[prefix.replace('backbone.', '') + 'roi_head.bbox_head.fc_cls.bias'] = \
        torch.zeros(81)
    path = tmp_path / 'det.pth'
    torch.save({'state_dict': state_dict,
                'meta': {'mmdet_version': '2.28.1', 'CLASSES': ('cat', 'dog'), 'epoch': 12,
                         'hook_msgs': {'best_score': np.float64(0.472)}}}, path)
    target = tiny_backbone()
    report = load_checkpoint(target, path)
    assert report.clean, report.describe()
    assert_same_weights(target, source.state_dict())


def test_classification_checkpoint_into_backbone_ignores_the_head(tmp_path):
    source = tiny_classifier(0)
    path = tmp_path / 'cls.pth'
    torch.save({'model': source.state_dict()}, path)
    target = tiny_backbone()
    report = load_checkpoint(target, path, strict=True)
    assert report.clean
    assert sorted(report.ignored) == sorted(k for k in source.state_dict()
                                            if k.startswith(('conv_head.', 'head.')))
    assert_same_weights(target, source.state_dict())


def test_backbone_checkpoint_into_classifier_reports_missing_head(tmp_path):
    backbone = tiny_backbone()
    path = tmp_path / 'det.pth'
    torch.save(mm_checkpoint(backbone.state_dict()), path)
    target = tiny_classifier(0)
    report = load_checkpoint(target, path)
    # BatchNorm tolerates a missing num_batches_tracked; everything else of the head is missing.
    assert sorted(report.missing) == sorted(
        k for k in target.state_dict()
        if k.startswith(('conv_head.', 'head.')) and not k.endswith('num_batches_tracked'))
    assert not report.unexpected and not report.mismatched
    with pytest.raises(RuntimeError, match=r'missing keys \(7\)'):
        load_checkpoint(target, path, strict=True)


def test_mismatches_and_unexpected_keys_are_reported(tmp_path):
    source = tiny_classifier(0, num_classes=10).state_dict()
    source['levels.0.blocks.0.extra_scale'] = torch.ones(3)
    path = tmp_path / 'cls.pth'
    torch.save({'model': source}, path)
    target = tiny_classifier(1, num_classes=5)
    head_before = target.head.weight.clone()
    report = load_checkpoint(target, path)
    assert report.unexpected == ['levels.0.blocks.0.extra_scale']
    assert [(k, a, b) for k, a, b in report.mismatched] == [
        ('head.weight', (10, 192), (5, 192)), ('head.bias', (10,), (5,))]
    assert not report.missing
    torch.testing.assert_close(target.head.weight, head_before)
    assert_same_weights(target.levels, {k[len('levels.'):]: v for k, v in source.items()
                                        if k.startswith('levels.')})
    assert 'shape-mismatched keys (2)' in report.describe()
    with pytest.raises(RuntimeError, match='unexpected'):
        load_checkpoint(target, path, strict=True)


def test_map_22k_to_1k_from_a_list_and_a_file(tmp_path):
    source = tiny_classifier(0, num_classes=12).state_dict()
    indices = [11, 0, 5]
    mapped = map_22k_to_1k(source, indices)
    torch.testing.assert_close(mapped['head.weight'], source['head.weight'][indices])
    torch.testing.assert_close(mapped['head.bias'], source['head.bias'][indices])
    assert mapped['conv_head.0.weight'] is source['conv_head.0.weight']
    assert source['head.weight'].shape[0] == 12  # the input is left alone

    index_file = tmp_path / 'map22kto1k.txt'
    index_file.write_text('11\n0\n5\n')
    ckpt = tmp_path / 'in22k.pth'
    torch.save({'model': source}, ckpt)
    target = tiny_classifier(1, num_classes=3)
    assert load_checkpoint(target, ckpt, class_indices=index_file, strict=True).clean
    torch.testing.assert_close(target.head.weight, source['head.weight'][indices])


@pytest.mark.parametrize('indices', [[], [12], [-1]])
def test_map_22k_to_1k_rejects_bad_indices(indices):
    with pytest.raises(ValueError, match='class indices'):
        map_22k_to_1k({'head.weight': torch.zeros(12, 4)}, indices)


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / 'nowhere' / 'internimage_t_1k_224.pth'
    with pytest.raises(FileNotFoundError, match='internimage_t_1k_224.pth'):
        read_checkpoint(missing)
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_checkpoint(tiny_backbone(), missing)


def test_loading_is_weights_only(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ('code ran',))

    path = tmp_path / 'evil.pth'
    torch.save({'model': {}, 'payload': Payload()}, path)
    with pytest.raises(UnsafeCheckpointError,
                       match=f'refused to load checkpoint {path}: .*GLOBAL print'):
        read_checkpoint(path)


def test_no_state_dict_found():
    with pytest.raises(ValueError, match='no state dict'):
        extract_state_dict({'epoch': 3, 'config': 'x'})


def test_loader_logs_its_report(tmp_path):
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('internimage_test_logger', log_level='INFO')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    path = tmp_path / 'cls.pth'
    torch.save({'model': tiny_classifier(0).state_dict()}, path)
    load_checkpoint(tiny_backbone(), path, logger=logger)
    message = records[-1].getMessage()
    assert 'InternImage' in message and 'classification head keys ignored' in message


def test_pretrained_init_cfg_uses_our_loader(tmp_path):
    """mmdet-style checkpoint with module.backbone. prefixes, through init_cfg."""
    source = tiny_backbone()
    with torch.no_grad():
        for p in source.parameters():
            p.mul_(-1)
    path = tmp_path / 'det.pth'
    torch.save({'state_dict': {'module.backbone.' + k: v for k, v in
                               source.state_dict().items()}, 'meta': {}}, path)
    target = InternImage(arch='test', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    assert_same_weights(target, source.state_dict())


def test_a_pretrained_init_cfg_of_which_nothing_fits_is_refused(tmp_path):
    """A checkpoint of another network through init_cfg: refused naming the file, where the
    backbone would have kept its random weights with a warning."""
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': {'encoder.layers.0.weight': torch.ones(4, 4)}}, path)
    target = InternImage(arch='test', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError, match=f'{path}: none of its 1 entries fits InternImage'):
        target.init_weights()


def test_converter_writes_what_mmengine_load_from_reads(tmp_path):
    """tools/convert_checkpoint.py: the backbone under backbone. for a detector, and what
    mmengine's own checkpoint loader (used by load_from) then loads into a detector-like
    model."""
    from mmengine.runner.checkpoint import load_checkpoint as mmengine_load_checkpoint

    source = tiny_classifier(0)
    src = tmp_path / 'cls.pth'
    torch.save({'model': source.state_dict(), 'epoch': 300}, src)
    dst = tmp_path / 'out' / 'backbone.pth'
    converted = run_tool('convert_checkpoint.py', src, dst, '--to', 'backbone')
    assert converted.returncode == 0, converted.stderr
    written = torch.load(dst, weights_only=True)
    assert set(written) == {'state_dict', 'meta'}
    assert all(k.startswith('backbone.') for k in written['state_dict'])
    assert not any(k.startswith(('backbone.head.', 'backbone.conv_head.'))
                   for k in written['state_dict'])

    detector = torch.nn.Module()
    detector.backbone = tiny_backbone()
    mmengine_load_checkpoint(detector, str(dst), strict=True)
    assert_same_weights(detector.backbone, source.state_dict())

    whole = tmp_path / 'classifier.pth'
    converted = run_tool('convert_checkpoint.py', src, whole, '--to', 'classifier')
    assert converted.returncode == 0, converted.stderr
    target = torch.nn.Module()
    target.classifier = tiny_classifier(1)
    mmengine_load_checkpoint(target, str(whole), strict=True)
    assert_same_weights(target.classifier, source.state_dict())
    # ... and our loader takes the network back out of it.
    assert_same_weights(target.classifier, extract_state_dict(read_checkpoint(whole)))


def test_our_classification_models_checkpoint_initialises_a_backbone(tmp_path):
    """What tools/train.py writes for a classification config (the network under
    ``classifier.``, beside the rest of the training model) initialises a detector's backbone
    through init_cfg, the head left out: the path the segmentation demo takes."""
    source = tiny_classifier(0)
    path = tmp_path / 'epoch_1.pth'
    state = {f'classifier.{k}': v for k, v in source.state_dict().items()}
    state['data_preprocessor.mean'] = torch.zeros(3)
    torch.save({'state_dict': state, 'meta': {}, 'message_hub': {}}, path)
    target = InternImage(arch='test', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    assert_same_weights(target, source.state_dict())
    network = extract_state_dict(read_checkpoint(path))
    assert 'data_preprocessor.mean' not in network and 'head.weight' in network


def test_the_classification_layout_is_chosen_by_the_model():
    """layout_for once ignored its model config: a model type without a released layout is
    refused by name."""
    names = ['patch_embed.conv1.weight', 'head.weight']
    assert layout_for(dict(type='ImageClassificationModel'), names).fills == 'classifier.'
    with pytest.raises(ConversionError, match="type 'MaskRCNN'; known: "
                                              r"\['ImageClassificationModel'\]"):
        layout_for(dict(type='MaskRCNN'), names)


def test_the_converter_names_a_bad_config_without_a_traceback(tmp_path):
    """tools/convert_checkpoint.py reads the engine's config errors as every tool does: the
    message, exit status 1, nothing written."""
    src = tmp_path / 'cls.pth'
    torch.save({'model': tiny_classifier(0).state_dict()}, src)
    dst = tmp_path / 'out.pth'
    result = run_tool('convert_checkpoint.py', src, dst, '--config', tmp_path / 'missing.py')
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert f'config file not found: {tmp_path / "missing.py"}' in result.stderr
    assert not dst.exists()
