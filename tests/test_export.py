"""Deployment: the portable ONNX export runs in ONNX Runtime and matches PyTorch at other batch
and image sizes than it was traced with; the plugin export writes one mmdeploy::TRTDCNv3 node per
DCNv3 with the published attributes; the custom form's nodes run our op in ONNX Runtime;
tools/export.py on configs and checkpoints (ONNX and .pt2 packages), and its errors;
torch.compile of the whole classifier and backbone without graph breaks."""

import subprocess
import sys

import onnx
import onnxruntime
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS

import ops_dcnv3
from internimage.models import create_backbone, create_classifier, mm_checkpoint
from internimage.models.variants import arch_options
from ops_dcnv3.onnx import dcnv3_export_form, export_onnx
from ops_dcnv3.onnxruntime_ops import session_options
from dcnv3_cases import perturbed
from tool_scripts import load_tool

export = load_tool('export')

DEMO_CONFIG = 'configs/classification/demo/internimage_demo_shapes.py'
IMAGE_AXES = {0: 'batch', 2: 'height', 3: 'width'}
PLUGIN_ATTRIBUTE_TYPES = {
    'kernel_h': 'INT', 'kernel_w': 'INT', 'stride_h': 'INT', 'stride_w': 'INT', 'pad_h': 'INT',
    'pad_w': 'INT', 'dilation_h': 'INT', 'dilation_w': 'INT', 'group': 'INT',
    'group_channels': 'INT', 'offset_scale': 'FLOAT', 'im2col_step': 'INT',
    'remove_center': 'INT'}


def tiny_classifier(variant='internimage_test', **options):
    torch.manual_seed(0)
    return perturbed(create_classifier(variant, num_classes=7, **options)).eval()


def run_onnxruntime(path, images, options=None):
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=['CPUExecutionProvider'])
    return [torch.from_numpy(out) for out in session.run(None, {'image': images.numpy()})]


def export_classifier(model, path, mode):
    export_onnx(model, (torch.randn(2, 3, 32, 32),), str(path), mode, ['image'], ['logits'],
                {'image': IMAGE_AXES, 'logits': {0: 'batch'}})
    return onnx.load(str(path))


@pytest.mark.parametrize('variant, options', [
    ('internimage_test', {}), ('internimage_test', dict(use_dcn_v4_op=True)),
    ('flash_internimage_test', {})], ids=['internimage', 'use_dcn_v4_op', 'flash'])
def test_portable_classifier_matches_pytorch_at_other_sizes(tmp_path, variant, options):
    model = tiny_classifier(variant, **options)
    graph = export_classifier(model, tmp_path / 'classifier.onnx', 'portable').graph
    assert {node.domain for node in graph.node} == {''}  # standard ONNX ops only
    assert 'GridSample' in {node.op_type for node in graph.node}
    for batch, height, width in ((2, 32, 32), (3, 48, 40), (1, 72, 96)):
        images = torch.randn(batch, 3, height, width)
        with torch.no_grad():
            expected = model(images)
        logits, = run_onnxruntime(tmp_path / 'classifier.onnx', images)
        assert logits.shape == (batch, 7)
        torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE, reason='compiled extension not built')
@pytest.mark.parametrize('variant, options, node', [
    ('internimage_test', {}, 'DCNv3'), ('internimage_test', dict(use_dcn_v4_op=True), 'DCNv4'),
    ('flash_internimage_test', {}, 'DCNv4')], ids=['internimage', 'use_dcn_v4_op', 'flash'])
def test_custom_op_classifier_runs_our_op_in_onnxruntime(tmp_path, variant, options, node):
    """The custom form: one ai.onnx.contrib node per layer, run by onnxruntime-extensions'
    Python ops with our compiled op (the module's own op: PyTorch's values to float32
    rounding)."""
    model = tiny_classifier(variant, **options)
    graph = export_classifier(model, tmp_path / 'classifier.onnx', 'custom').graph
    custom = [n for n in graph.node if n.domain]
    assert {(n.domain, n.op_type) for n in custom} == {('ai.onnx.contrib', node)}
    assert len(custom) == sum(isinstance(m, (ops_dcnv3.DCNv3, ops_dcnv3.DCNv4))
                              for m in model.modules()) > 1
    assert {a.name for a in custom[0].attribute} == set(PLUGIN_ATTRIBUTE_TYPES)
    assert 'GridSample' not in {n.op_type for n in graph.node}
    for batch, height, width in ((3, 48, 40), (1, 72, 96)):
        images = torch.randn(batch, 3, height, width)
        with torch.no_grad():
            expected = model(images)
        logits, = run_onnxruntime(tmp_path / 'classifier.onnx', images, session_options())
        torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_export_restores_the_modules_own_op():
    model = tiny_classifier()
    dcn = next(m for m in model.modules() if isinstance(m, ops_dcnv3.DCNv3))
    with dcnv3_export_form(model, 'portable'):
        assert dcn.core_op is not ops_dcnv3.DCNv3.core_op
    assert 'core_op' not in vars(dcn)
    with pytest.raises(ValueError, match="unknown DCNv3 export mode 'tensorrt'"):
        with dcnv3_export_form(model, 'tensorrt'):
            pass


@pytest.mark.parametrize('use_dcn_v4_op', [False, True])
def test_plugin_nodes_carry_the_published_attributes(tmp_path, use_dcn_v4_op):
    """With use_dcn_v4_op the DCNv3 modules run the DCNv4 op; they export as DCNv3 all the same
    (the same values: there is no DCNv4 plugin)."""
    model = tiny_classifier(offset_scale=2.0, remove_center=True, use_dcn_v4_op=use_dcn_v4_op)
    graph_model = export_classifier(model, tmp_path / 'plugin.onnx', 'plugin')
    onnx.checker.check_model(graph_model)
    assert {o.domain: o.version for o in graph_model.opset_import}['mmdeploy'] == 1
    nodes = [n for n in graph_model.graph.node if n.domain == 'mmdeploy']
    assert [n.op_type for n in nodes] == ['TRTDCNv3'] * 4
    assert 'GridSample' not in {n.op_type for n in graph_model.graph.node}
    for node, group in zip(nodes, arch_options('internimage_test')['groups']):
        assert len(node.input) == 3 and len(node.output) == 1
        attributes = {a.name: a for a in node.attribute}
        types = {name: onnx.AttributeProto.AttributeType.Name(a.type)
                 for name, a in attributes.items()}
        assert types == PLUGIN_ATTRIBUTE_TYPES
        values = {name: onnx.helper.get_attribute_value(a) for name, a in attributes.items()}
        assert values == dict(kernel_h=3, kernel_w=3, stride_h=1, stride_w=1, pad_h=1, pad_w=1,
                              dilation_h=1, dilation_w=1, group=group, group_channels=16,
                              offset_scale=2.0, im2col_step=256, remove_center=1)
    dims = [d.dim_param for d in graph_model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ['batch', '', 'height', 'width']


@pytest.fixture(scope='module')
def demo_checkpoints(tmp_path_factory):
    """The demo config's classifier with random weights in our layout and its backbone in the
    published detection layout."""
    folder = tmp_path_factory.mktemp('checkpoints')
    torch.manual_seed(0)
    model = perturbed(MODELS.build(Config.fromfile(DEMO_CONFIG).model))
    ours = folder / 'demo.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ours)
    detection = folder / 'detection.pth'
    torch.save(mm_checkpoint(model.classifier.state_dict()), detection)
    return ours, detection, model.classifier.eval()


def test_tool_exports_the_config_classifier_with_its_weights(tmp_path, demo_checkpoints, capsys):
    checkpoint, _, classifier = demo_checkpoints
    out = tmp_path / 'demo.onnx'
    export.main([DEMO_CONFIG, str(checkpoint), '--out', str(out), '--shape', '64', '64'])
    assert 'ONNX Runtime matches PyTorch' in capsys.readouterr().out
    images = torch.randn(2, 3, 80, 64)
    with torch.no_grad():
        expected = classifier(images)
    torch.testing.assert_close(run_onnxruntime(out, images)[0], expected, rtol=1e-4, atol=1e-5)


def test_tool_exports_the_dense_backbone_from_a_detection_checkpoint(tmp_path,
                                                                     demo_checkpoints):
    _, checkpoint, classifier = demo_checkpoints
    out = tmp_path / 'backbone.onnx'
    message = export.export(DEMO_CONFIG, str(checkpoint), str(out), shape=(64, 64),
                            backbone=True)
    assert message.startswith('ONNX Runtime matches PyTorch')
    images = torch.randn(1, 3, 96, 64)
    levels = run_onnxruntime(out, images)
    with torch.no_grad():
        expected = [level.permute(0, 3, 1, 2) for level in classifier.forward_levels(images)]
    assert [tuple(level.shape) for level in levels] == [
        (1, 16, 24, 16), (1, 32, 12, 8), (1, 64, 6, 4), (1, 128, 3, 2)]
    for level, reference in zip(levels, expected):
        torch.testing.assert_close(level, reference, rtol=1e-4, atol=1e-5)


PACKAGE_RUNNER = """
import sys, torch
sys.modules['internimage'] = None  # the package runs without the model's code
import ops_dcnv3
images, expected = torch.load(sys.argv[2])
found = torch._inductor.aoti_load_package(sys.argv[1])(images)
print(float((found - expected).abs().max()))
"""


@pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE, reason='compiled extension not built')
def test_tool_writes_a_pt2_package_that_runs_without_the_model_code(tmp_path, demo_checkpoints,
                                                                   capsys):
    """torch.export + AOTInductor (about 2 minutes of C++ compilation on 2 cores): the package
    takes other batch and image sizes and runs our registered op with only ops_dcnv3 loaded."""
    checkpoint, _, classifier = demo_checkpoints
    out = tmp_path / 'classifier.pt2'
    export.main([DEMO_CONFIG, str(checkpoint), '--format', 'pt2', '--out', str(out),
                 '--shape', '64', '64'])
    assert 'the package matches PyTorch' in capsys.readouterr().out
    images = torch.randn(3, 3, 40, 72)
    with torch.no_grad():
        torch.save((images, classifier(images)), tmp_path / 'expected.pt')
    done = subprocess.run([sys.executable, '-c', PACKAGE_RUNNER, str(out),
                           str(tmp_path / 'expected.pt')], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split()[-1]) < 1e-4
    with pytest.raises(SystemExit, match='--mode custom is a form of the ONNX file'):
        export.main([DEMO_CONFIG, str(checkpoint), '--format', 'pt2', '--mode', 'custom'])


def test_tool_plugin_mode_counts_the_nodes(tmp_path, demo_checkpoints):
    checkpoint, _, _ = demo_checkpoints
    message = export.export(DEMO_CONFIG, str(checkpoint), str(tmp_path / 'p.onnx'), 'plugin',
                            (64, 64))
    assert message == '5 mmdeploy::TRTDCNv3 nodes'  # depths [1, 1, 2, 1]


def test_backbone_of_a_detection_config_is_found():
    kind, cfg = export.internimage_config(dict(
        type='MaskRCNN', backbone=dict(type='InternImage', channels=16, out_indices=(1, 2))))
    assert kind == 'backbone' and cfg['out_indices'] == (1, 2)
    kind, cfg = export.internimage_config(dict(
        type='ImageClassificationModel',
        classifier=dict(type='InternImageClassifier', channels=16, num_classes=7)), backbone=True)
    assert kind == 'backbone' and cfg == dict(type='InternImage', channels=16)


@pytest.mark.parametrize('arguments, message', [
    (['missing.py', 'CHECKPOINT'], 'config file not found: missing.py'),
    ([DEMO_CONFIG, 'missing.pth'], 'checkpoint file not found: missing.pth'),
    (['NOT_INTERNIMAGE', 'CHECKPOINT'], "no InternImage network to export .*'ResNet'"),
    ([DEMO_CONFIG, 'DETECTION'], 'does not fit the classifier .*--backbone.*missing keys'),
])
def test_tool_errors_name_the_problem(arguments, message, tmp_path, demo_checkpoints):
    config = tmp_path / 'resnet.py'
    config.write_text("model = dict(type='ImageClassifier', backbone=dict(type='ResNet'))\n")
    names = {'CHECKPOINT': str(demo_checkpoints[0]), 'DETECTION': str(demo_checkpoints[1]),
             'NOT_INTERNIMAGE': str(config)}
    with pytest.raises(SystemExit, match=message):
        export.main([names.get(a, a) for a in arguments] + ['--out', str(tmp_path / 'x.onnx')])


def test_tool_refuses_an_unknown_mode(capsys):
    with pytest.raises(SystemExit):
        export.parse_args([DEMO_CONFIG, 'x.pth', '--mode', 'tensorrt'])
    assert "invalid choice: 'tensorrt'" in capsys.readouterr().err


@pytest.mark.skipif(not ops_dcnv3.EXTENSION_AVAILABLE, reason='compiled extension not built')
@pytest.mark.parametrize('build', [
    lambda: tiny_classifier(),
    lambda: perturbed(create_backbone('internimage_test')).eval(),
    lambda: tiny_classifier('flash_internimage_test')],
    ids=['classifier', 'backbone', 'flash_classifier'])
def test_torch_compile_whole_network_without_graph_breaks(build):
    """fullgraph=True fails on any graph break. aot_eager runs Dynamo and AOTAutograd (the
    registered op's fake kernel, functionalisation) without Inductor's C++ build, which takes
    over a minute on a cold cache; the compiled benchmark row runs Inductor."""
    torch._dynamo.reset()
    model = build()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(images)
        compiled = torch.compile(model, fullgraph=True, backend='aot_eager')(images)
    torch.testing.assert_close(compiled, expected, rtol=1e-5, atol=1e-6)
