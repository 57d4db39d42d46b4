"""tools/get_flops.py: mmengine's FlopAnalyzer plus our handle for the DCNv3 core op, checked
against the hand formula on single layers and against the published InternImage-T number, and
run on a segmentation, a Mask2Former and a detection config."""

import pytest
import torch
from mmengine.analysis import FlopAnalyzer

from internimage.engine import TASKS
from internimage.models import create_classifier
from internimage.models.variants import arch_options
from ops_dcnv3 import DCNv3
from ops_dcnv3.flops import add_dcnv3_handle, dcnv3_flops
from tool_scripts import load_tool

get_flops = load_tool('get_flops')


def dcnv3_count(module, x):
    analyzer = add_dcnv3_handle(FlopAnalyzer(module.eval(), (x,)))
    analyzer.unsupported_ops_warnings(False)
    return analyzer.by_operator()['dcnv3']


@pytest.mark.parametrize('kernel_size, remove_center, points', [
    (3, False, 9), (3, True, 8), (5, False, 25)])
def test_handle_counts_five_flops_per_sampled_point_and_output_value(kernel_size, remove_center,
                                                                     points):
    layer = DCNv3(channels=32, kernel_size=kernel_size, pad=kernel_size // 2, group=2,
                  remove_center=remove_center)
    expected = 2 * 12 * 10 * 32 * points * 5
    assert dcnv3_count(layer, torch.randn(2, 12, 10, 32)) == expected
    assert dcnv3_flops((2, 12, 10, 32), points) == expected


def test_internimage_t_classifier_matches_the_published_five_gflops():
    result = get_flops.count(create_classifier('internimage_t'), TASKS['classification'], 224, 224)
    # DCNv3 core op: per level, depth x (56 / 2^i)^2 x C_i x 9 points x 5
    t = arch_options('internimage_t')
    expected_dcnv3 = sum(depth * (56 // 2 ** i) ** 2 * t['channels'] * 2 ** i * 9 * 5
                         for i, depth in enumerate(t['depths']))
    assert result['dcnv3_flops'] == expected_dcnv3
    assert 4.8e9 < result['flops'] < 5.2e9  # published: 5G
    assert result['params'] == pytest.approx(30e6, rel=0.01)  # published: 30M


@pytest.mark.parametrize('config, shape, parts', [
    ('configs/segmentation/demo/upernet_internimage_demo_shapes.py', (64, 96),
     {'backbone', 'decode_head'}),
    ('configs/segmentation/demo/mask2former_internimage_demo_shapes.py', (64, 64),
     {'backbone', 'decode_head'}),
    ('configs/detection/demo/mask_rcnn_internimage_demo_shapes.py', (64, 64),
     {'backbone', 'neck', 'rpn_head', 'roi_head'})])
def test_tool_counts_dense_prediction_configs(config, shape, parts, capsys):
    result = get_flops.main([config, '--shape', *map(str, shape)])
    assert set(result['by_part']) - {'other'} == parts
    assert result['dcnv3_flops'] > 0
    assert sum(result['by_part'].values()) == result['flops']
    printed = capsys.readouterr().out
    assert f'1 x 3 x {shape[0]} x {shape[1]}' in printed and 'DCNv3 core op' in printed


def test_tool_refuses_bad_input(tmp_path):
    with pytest.raises(SystemExit):
        get_flops.main(['configs/segmentation/demo/upernet_internimage_demo_shapes.py',
                        '--shape', '8', '8'])
    with pytest.raises(SystemExit, match='not found'):
        get_flops.main([str(tmp_path / 'missing.py')])
