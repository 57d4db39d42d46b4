"""Every released model's state-dict layout (key lists of the published implementation, built
by its own stack) converts completely into our model of the same recipe: every entry placed,
shapes equal, no model entry left empty; checked on names and shapes alone. And the converter
refuses what does not fit, naming it, and writes nothing."""

import pytest
import torch
from mmengine.config import Config

from internimage.engine import task_of
from internimage.engine.released import model_shapes
from internimage.models.conversion import ConversionError, plan_conversion
from published_data import CONFIG_OF, our_config, read_key_list
from tool_scripts import run_tool

# entries renamed from the published head to mmdet 3.3 / mmseg 1.2 (read from the published
# heads' code, see detection/ and segmentation/checkpoint_layouts.py)
RENAMED = {
    'dino_4scale_internimage_t_1x_coco_layer_wise_lr': {
        'bbox_head.transformer.decoder.layers.0.attentions.0.attn.in_proj_weight':
            'decoder.layers.0.self_attn.attn.in_proj_weight',
        'bbox_head.transformer.decoder.layers.5.attentions.1.sampling_offsets.weight':
            'decoder.layers.5.cross_attn.sampling_offsets.weight',
        'bbox_head.transformer.decoder.ref_point_head.2.weight':
            'decoder.ref_point_head.layers.1.weight',
        'bbox_head.transformer.enc_output.weight': 'memory_trans_fc.weight',
        'bbox_head.label_embedding.weight': 'dn_query_generator.label_embedding.weight',
        'bbox_head.cls_branches.6.weight': 'bbox_head.cls_branches.6.weight'},
    'dino_4scale_cbinternimage_h_objects365_coco_ss': {
        'neck.0.extra_convs.0.conv.weight': 'neck.extra_convs.0.conv.weight',
        'bbox_head.transformer.encoder.layers.2.ffns.0.layers.1.weight':
            'encoder.layers.2.ffn.layers.1.weight'},
    'mask2former_internimage_h_896_80k_cocostuff2ade20k_ss': {
        'decode_head.transformer_decoder.layers.3.attentions.0.attn.in_proj_weight':
            'decode_head.transformer_decoder.layers.3.cross_attn.attn.in_proj_weight',
        'decode_head.transformer_decoder.layers.3.attentions.1.attn.out_proj.bias':
            'decode_head.transformer_decoder.layers.3.self_attn.attn.out_proj.bias',
        'decode_head.pixel_decoder.encoder.layers.0.attentions.0.value_proj.weight':
            'decode_head.pixel_decoder.encoder.layers.0.self_attn.value_proj.weight',
        'decode_head.transformer_decoder.layers.8.norms.2.weight':
            'decode_head.transformer_decoder.layers.8.norms.2.weight'},
}


def plan_for(published_name, source_shapes):
    cfg = Config.fromfile(our_config(published_name))
    layout = task_of(cfg).released_layout(cfg.model, list(source_shapes))
    return plan_conversion(layout, source_shapes, model_shapes(cfg))


@pytest.mark.parametrize('published_name', sorted(CONFIG_OF))
def test_every_released_layout_converts_completely(published_name):
    source = read_key_list(published_name)
    plan = plan_for(published_name, source)
    assert not plan.dropped
    assert sorted(s for s, _ in plan.placed) == sorted(source)
    placed = dict(plan.placed)
    for old, new in RENAMED.get(published_name, {}).items():
        assert placed[old] == new


def test_an_unaccounted_entry_and_a_wrong_shape_are_refused_by_name():
    name = 'mask_rcnn_internimage_t_fpn_1x_coco'
    source = dict(read_key_list(name))
    source['roi_head.extra_head.weight'] = (3,)
    source['rpn_head.rpn_cls.weight'] = (4, 256, 1, 1)
    with pytest.raises(ConversionError) as error:
        plan_for(name, source)
    assert 'roi_head.extra_head.weight -> roi_head.extra_head.weight: the model has no such' \
        in str(error.value)
    assert 'rpn_head.rpn_cls.weight -> rpn_head.rpn_cls.weight: shape (4, 256, 1, 1)' \
        in str(error.value)
    missing = dict(read_key_list(name))
    del missing['neck.fpn_convs.0.conv.bias']
    with pytest.raises(ConversionError, match=r"1 entries of the model get no tensor: "
                                              r"\['neck.fpn_convs.0.conv.bias'\]"):
        plan_for(name, missing)
    stray = dict(read_key_list('dino_4scale_internimage_t_1x_coco_layer_wise_lr'))
    stray['bbox_head.transformer.decoder.layers.0.attentions.2.x'] = (1,)
    with pytest.raises(ConversionError, match=r'attentions\.2\.x: no rule of the layout'):
        plan_for('dino_4scale_internimage_t_1x_coco_layer_wise_lr', stray)


DEMO = 'configs/detection/demo/mask_rcnn_internimage_demo_shapes.py'


def run_converter(*args):
    return run_tool('convert_checkpoint.py', *args)


def test_converter_writes_a_whole_detector_or_nothing(tmp_path):
    """A released detector (mmdet 2.x names, here the demo model's own) becomes a checkpoint of
    the config's model; one stray entry stops it with the entry's name and no file."""
    shapes = model_shapes(Config.fromfile(DEMO))
    torch.manual_seed(0)
    release = {name: torch.randn(shape) for name, shape in shapes.items()}
    src, dst = tmp_path / 'release.pth', tmp_path / 'out' / 'ours.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in release.items()}, 'meta': {}}, src)
    done = run_converter(src, dst, '--config', DEMO, '--cfg-options', 'model.neck.out_channels=32')
    assert done.returncode == 0, done.stderr
    assert f'placed {len(release)} tensors (0 renamed), dropped 0' in done.stdout
    written = torch.load(dst, weights_only=True)['state_dict']
    assert written.keys() == release.keys()
    assert all(torch.equal(written[k], release[k]) for k in release)

    torch.save({'state_dict': {**release, 'roi_head.bbox_head.stray': torch.zeros(2)}}, src)
    refused = run_converter(src, tmp_path / 'never.pth', '--config', DEMO)
    assert refused.returncode != 0 and 'roi_head.bbox_head.stray' in refused.stderr
    assert 'nothing written' in refused.stderr and not (tmp_path / 'never.pth').exists()


def test_a_classification_release_fills_a_backbone_and_drops_its_head_with_a_reason(tmp_path):
    """Pretrained weights for a detector: the trunk under backbone., the head dropped with the
    reason printed (the detector's own heads are left to its initialisation)."""
    cfg = Config.fromfile(DEMO)
    backbone = {k[len('backbone.'):]: v for k, v in model_shapes(cfg).items()
                if k.startswith('backbone.')}
    torch.manual_seed(0)
    release = {k: torch.randn(s) for k, s in backbone.items()}
    src, dst = tmp_path / 'cls.pth', tmp_path / 'det.pth'
    torch.save({'model': {**release, 'head.weight': torch.zeros(6, 8)}, 'epoch': 300}, src)
    done = run_converter(src, dst, '--config', DEMO)
    assert done.returncode == 0, done.stderr
    assert 'dropped head.weight: classification head: a dense-prediction model has no place' \
        in done.stdout
    written = torch.load(dst, weights_only=True)['state_dict']
    assert written.keys() == {f'backbone.{k}' for k in release}
    assert torch.equal(written['backbone.patch_embed.conv1.weight'],
                       release['patch_embed.conv1.weight'])
    del release['patch_embed.conv1.weight']
    torch.save({'model': release}, src)
    short = run_converter(src, tmp_path / 'never.pth', '--config', DEMO)
    assert short.returncode != 0 and "['backbone.patch_embed.conv1.weight']" in short.stderr
    assert not (tmp_path / 'never.pth').exists()


# FlashInternImage releases (OpenGVLab/DCNv4): the published detectors and segmentors are the
# InternImage ones with the FlashInternImage backbone (the layout of keys_flash, plus the layer
# scales gamma1/gamma2 the det/seg configs turn on, minus the classification head) and, for
# Mask R-CNN and Cascade, FPN_vitdet, whose ConvModule_Norm convs have no bias and a LayerNorm
# `ln` (weight, bias) of out_channels. Their key lists are made from those facts over the
# InternImage release of the same head.
FLASH_RELEASES = {
    'mask_rcnn_internimage_t_fpn_1x_coco': (
        'detection/coco/mask_rcnn_flash_internimage_t_fpn_1x_coco', 'flash_intern_image_t_1k_224'),
    'cascade_internimage_l_fpn_1x_coco': (
        'detection/coco/cascade_flash_internimage_l_fpn_1x_coco',
        'flash_intern_image_l_22kto1k_384'),
    'dino_4scale_internimage_t_1x_coco_layer_wise_lr': (
        'detection/coco/dino_4scale_flash_internimage_t_1x_coco', 'flash_intern_image_t_1k_224'),
    'upernet_internimage_t_512_160k_ade20k': (
        'segmentation/ade20k/upernet_flash_internimage_t_512_160k_ade20k',
        'flash_intern_image_t_1k_224'),
}


def flash_release(internimage_release, backbone_list):
    source = {k: v for k, v in read_key_list(internimage_release).items()
              if not k.startswith('backbone.')}
    for name, shape in read_key_list(backbone_list, folder='keys_flash').items():
        if name.startswith(('conv_head.', 'head.')):
            continue
        source[f'backbone.{name}'] = shape
        block = name.partition('.blocks.')
        if name.endswith('.norm1.0.weight') and block[1]:  # one pair of layer scales per block
            prefix = name[:-len('norm1.0.weight')]
            source.setdefault(f'backbone.{prefix}gamma1', shape)
            source.setdefault(f'backbone.{prefix}gamma2', shape)
    if 'neck.lateral_convs.0.conv.weight' in source:  # FPN -> FPN_vitdet
        for name in [k for k in source if k.startswith('neck.') and k.endswith('.conv.bias')]:
            channels = source.pop(name)
            source[name.replace('.conv.bias', '.ln.weight')] = channels
            source[name.replace('.conv.bias', '.ln.bias')] = channels
    return source


@pytest.mark.parametrize('internimage_release', sorted(FLASH_RELEASES))
def test_flash_internimage_releases_convert_completely(internimage_release):
    config, backbone_list = FLASH_RELEASES[internimage_release]
    source = flash_release(internimage_release, backbone_list)
    cfg = Config.fromfile(f'configs/{config}.py')
    layout = task_of(cfg).released_layout(cfg.model, list(source))
    plan = plan_conversion(layout, source, model_shapes(cfg))
    assert not plan.dropped
    assert sorted(s for s, _ in plan.placed) == sorted(source)
    placed = dict(plan.placed)
    assert placed['backbone.levels.0.blocks.0.dcn.offset_mask.weight'] == \
        'backbone.levels.0.blocks.0.dcn.offset_mask.weight'
