"""One registration in mmengine's root MODELS registry serves mmdet and mmseg: their registries
find InternImage through their parent, necks wire themselves from ``out_channels``, and a
detector's init_weights loads a published-layout checkpoint through the backbone's init_cfg."""
import torch
from mmengine.registry import MODELS

from internimage.models import InternImage, InternImageClassifier

# The unpublished test variant, named by its arch key as configs name variants.
TINY = dict(type='InternImage', arch='test', core_op='DCNv3_pytorch')


def test_root_registry_holds_backbone_and_classifier():
    assert MODELS.get('InternImage') is InternImage
    assert MODELS.get('InternImageClassifier') is InternImageClassifier
    classifier = MODELS.build(dict(TINY, type='InternImageClassifier', num_classes=3))
    assert classifier(torch.randn(2, 3, 32, 32)).shape == (2, 3)


def test_mmdet_builds_backbone_and_fpn_wires_itself():
    from mmdet.registry import MODELS as DET_MODELS
    backbone = DET_MODELS.build(dict(TINY, out_indices=(1, 2, 3)))
    assert isinstance(backbone, InternImage)
    neck = DET_MODELS.build(dict(type='FPN', in_channels=list(backbone.out_channels),
                                 out_channels=8, num_outs=4))
    outputs = neck(backbone(torch.randn(1, 3, 64, 64)))
    assert [tuple(o.shape) for o in outputs] == [(1, 8, 8, 8), (1, 8, 4, 4), (1, 8, 2, 2),
                                                 (1, 8, 1, 1)]


def test_mmseg_builds_backbone_and_uper_head():
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS as SEG_MODELS
    backbone = SEG_MODELS.build(TINY)
    assert isinstance(backbone, InternImage)
    with DefaultScope.overwrite_default_scope('mmseg'):  # other tests may leave mmdet's
        head = SEG_MODELS.build(dict(type='UPerHead', in_channels=list(backbone.out_channels),
                                     in_index=[0, 1, 2, 3], channels=8, num_classes=5,
                                     norm_cfg=dict(type='BN', requires_grad=True)))
    head.eval()
    logits = head(backbone(torch.randn(1, 3, 64, 64)))
    assert logits.shape == (1, 5, 16, 16)


def test_detector_init_weights_loads_the_backbone_checkpoint(tmp_path):
    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    source = MODELS.build(TINY)
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.5)
    path = tmp_path / 'mask_rcnn_internimage.pth'
    torch.save({'state_dict': {'module.backbone.' + k: v for k, v in
                               source.state_dict().items()}, 'meta': {'epoch': 12}}, path)
    detector = DET_MODELS.build(dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor'),
        backbone=dict(TINY, out_indices=(1, 2, 3),
                      init_cfg=dict(type='Pretrained', checkpoint=str(path))),
        neck=dict(type='FPN', in_channels=[32, 64, 128], out_channels=8, start_level=0,
                  add_extra_convs='on_input', num_outs=4),
        bbox_head=dict(
            type='RetinaHead', num_classes=3, in_channels=8, stacked_convs=1, feat_channels=8,
            anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4,
                                  scales_per_octave=1, ratios=[1.0], strides=[8, 16, 32, 64]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                            target_stds=[1.0] * 4),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))))
    detector.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(detector.backbone.state_dict()[key], value, msg=key)
    scores, boxes = detector(torch.randn(1, 3, 64, 64), mode='tensor')
    assert scores[0].shape == (1, 3, 8, 8)
