"""Every detection and segmentation recipe trains and evaluates as the published code did: the
facts of our effective configs (tests/recipe_facts.py) equal those of the published configs they
reproduce, stored in tests/published_dense_recipes.json (written by that module from the
published checkout OpenGVLab/InternImage at 31c962d).

A fact differs only where DEVIATIONS names it with the reason; a deviation that no longer
differs fails too, so the list stays the list of what is not as published."""
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import LinearLR, PolyLR

import recipe_facts
from recipe_facts import our_facts, published_facts
from tool_scripts import load_tool

ROOT = Path(__file__).resolve().parents[1]
TABLE = json.loads(recipe_facts.TABLE.read_text())

# published config -> ours, where the names differ
RENAMED = {
    'detection/coco/dino_4scale_internimage_t_1x_coco_layer_wise_lr':
        'detection/coco/dino_4scale_internimage_t_1x_coco',
    'detection/coco/dino_4scale_internimage_l_1x_coco_layer_wise_lr':
        'detection/coco/dino_4scale_internimage_l_1x_coco',
    'detection/coco/dino_4scale_cbinternimage_h_objects365_coco_ss':
        'detection/coco/dino_4scale_cbinternimage_h_o365_coco',
    'detection/coco/dino_4scale_internimage_h_objects365_coco_ss':
        'detection/coco/dino_4scale_internimage_h_o365_coco',
    'detection/coco/dino_4scale_internimage_g_objects365_coco_ss':
        'detection/coco/dino_4scale_internimage_g_o365_coco',
    'segmentation/ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k_ss':
        'segmentation/ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k',
    # OpenGVLab/DCNv4 spells some FlashInternImage recipes flash_intern_image
    **{f'detection/coco/{kind}_flash_intern_image_{v}_fpn_{s}_coco':
       f'detection/coco/{kind}_flash_internimage_{v}_fpn_{s}_coco'
       for kind, variants in (('mask_rcnn', 'tsb'), ('cascade', ['l']))
       for v in variants for s in ('1x', '3x')},
}
# our configs without a published config: variants for FSDP, the demo, and the multi-scale
# test of Mask2Former-H on Cityscapes (the published number came from --aug-test)
UNPUBLISHED = ('_fsdp', '/demo/', 'mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes_ms')

# (published config, fact): why ours differs
DEVIATIONS = {
    ('detection/crowd_human/cascade_internimage_xl_fpn_3x_crowd_human', 'eval.metric'):
        "mmdet's CrowdHumanMetric (AP, MR, JI on the .odgt files): the published dataset's "
        "evaluate printed COCO-style box mAP on converted annotations and returned nothing, "
        'and no CrowdHuman number was published',
    ('detection/voc/dino_4scale_cbinternimage_h_objects365_voc12', 'eval.metric'):
        'VOC 2012 test labels are withheld: the published mAP evaluation could only run with '
        "--format-only; ours writes the evaluation server's result files (VOCSubmissionWriter)",
}

# GPUs the published recipes ran on (published configs' comments and READMEs: "we use 4 nodes",
# "(4n)", "8 GPUs", ...); the DINO-H/G/CB launches are not stated there
PUBLISHED_GPUS = {
    'mask_rcnn_internimage_': 8, 'cascade_internimage_l_fpn_1x': 8,
    'cascade_internimage_xl_fpn_1x': 8, 'cascade_internimage_l_fpn_3x_coco': 32,
    'cascade_internimage_xl_fpn_3x_coco': 32, 'cascade_internimage_xl_fpn_3x_crowd_human': 64,
    'dino_4scale_internimage_t_1x': 8, 'dino_4scale_internimage_l_1x': 8,
    'upernet_internimage_t_': 8, 'upernet_internimage_s_': 8, 'upernet_internimage_b_': 8,
    'upernet_internimage_l_': 8, 'upernet_internimage_xl_': 8, 'segformer_internimage_': 8,
    'upernet_internimage_h_': 16, 'upernet_internimage_g_': 16,
    'mask2former_internimage_h_896_80k_cocostuff2ade20k': 16,
    'mask2former_internimage_h_896_80k_cocostuff164k': 16,
    'mask2former_internimage_h_512_40k_cocostuff164k_to_10k': 16,
    'mask2former_internimage_h_480_40k': 16, 'mask2former_internimage_h_896x896_80k_mapillary': 16,
    'mask2former_internimage_h_1024x1024_80k_mapillary2cityscapes': 8,
    # FlashInternImage: "8 GPUs with 2 (DINO T/S/B: 4) images per GPU"; the 3x configs add
    # "4 nodes, a total batch size of 64", which their images per GPU turn into GPUs
    'mask_rcnn_flash_intern_image_t_fpn_1x': 8, 'mask_rcnn_flash_intern_image_s_fpn_1x': 8,
    'mask_rcnn_flash_intern_image_b_fpn_1x': 8, 'mask_rcnn_flash_intern_image_t_fpn_3x': 32,
    'mask_rcnn_flash_intern_image_s_fpn_3x': 8, 'mask_rcnn_flash_intern_image_b_fpn_3x': 16,
    'cascade_flash_intern_image_l_fpn_1x': 8, 'cascade_flash_intern_image_l_fpn_3x': 16,
    'dino_4scale_flash_internimage_': 8, 'upernet_flash_internimage_': 8,
    'mask2former_flash_internimage_t_': 8, 'mask2former_flash_internimage_s_': 8,
    'mask2former_flash_internimage_b_': 8, 'mask2former_flash_internimage_l_': 8,
}


def our_config(name):
    return ROOT / 'configs' / f'{RENAMED.get(name, name)}.py'


def differences(published, ours):
    """{fact: (published, ours)} of the facts that differ. A model setting the published config
    does not state is its class's default, not read here: only stated ones are compared."""
    keys = set(published) | {k for k in ours if not k.startswith('model.')}
    return {k: (published.get(k, 'absent'), ours.get(k, 'absent')) for k in sorted(keys)
            if published.get(k, 'absent') != ours.get(k, 'absent')}


def test_every_recipe_has_its_published_facts():
    ours = {str(p.relative_to(ROOT / 'configs'))[:-3]
            for task in ('detection', 'segmentation')
            for p in (ROOT / 'configs' / task).glob('*/*.py')
            if not any(u in str(p) for u in UNPUBLISHED)}
    assert ours == {RENAMED.get(name, name) for name in TABLE}
    assert len(TABLE) == 72  # 51 of OpenGVLab/InternImage, 21 of OpenGVLab/DCNv4


@pytest.mark.parametrize('name', sorted(TABLE))
def test_recipe_runs_as_published(name):
    ours = json.loads(json.dumps(our_facts(Config.fromfile(str(our_config(name))))))
    expected = {fact for (recipe, fact) in DEVIATIONS if recipe == name}
    found = differences(TABLE[name], ours)
    assert set(found) == expected, found


@pytest.mark.parametrize('prefix, gpus', sorted(PUBLISHED_GPUS.items()))
def test_configs_state_the_published_launch(prefix, gpus):
    stated_gpus = load_tool('print_recipe').stated_gpus
    configs = [our_config(name) for name in TABLE if prefix in name]
    assert configs
    for path in configs:
        assert stated_gpus(str(path))[0] == gpus, path


def mmcv_poly_with_linear_warmup(base_lr, i, max_iters, warmup_iters, warmup_ratio):
    """The lr at iteration i of mmcv 1.x's PolyLrUpdaterHook (power 1, min_lr 0) with linear
    warm-up: the poly lr of iteration i, scaled by 1 - (1 - i / W) * (1 - ratio) while i < W."""
    regular = base_lr * (1 - i / max_iters)
    if i >= warmup_iters:
        return regular
    return regular * (1 - (1 - i / warmup_iters) * (1 - warmup_ratio))


def test_segmentation_schedule_is_mmcv_poly_with_warmup():
    """mmengine's schedulers as the recipes' schedule sets them (begins and ends relative to the
    warm-up and training lengths), on a shortened schedule, give the published lr at every
    iteration: the warm-up multiplies the poly from iteration 0, both end where mmcv's did."""
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/segmentation/schedule_160k.py'))
    warmup, poly = cfg.param_scheduler
    assert (warmup.begin, poly.begin) == (0, 0)
    warmup_iters, max_iters = 15, 100
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2e-5)
    schedulers = [
        LinearLR(optimizer, start_factor=warmup.start_factor, by_epoch=False, begin=0,
                 end=warmup_iters + warmup.end - cfg.warmup_iters),
        PolyLR(optimizer, power=poly.power, eta_min=poly.eta_min, by_epoch=False, begin=0,
               end=max_iters + poly.end - cfg.max_iters)]
    for i in range(max_iters):
        expected = mmcv_poly_with_linear_warmup(2e-5, i, max_iters, warmup_iters,
                                                warmup.start_factor)
        assert optimizer.param_groups[0]['lr'] == pytest.approx(expected, rel=1e-9, abs=1e-18)
        for scheduler in schedulers:
            scheduler.step()


def test_a_pipeline_on_a_dataset_wrapper_is_not_what_ran():
    """mmdet 2 built a RepeatDataset from its inner dataset only: a pipeline set on the wrapper
    (the published VOC configs do it) never ran, and the facts report the inner one."""
    def published(train):
        resize = dict(type='Resize', img_scale=(1333, 800), keep_ratio=True)
        test = [dict(type='MultiScaleFlipAug', img_scale=(1333, 800), flip=False,
                     transforms=[resize, dict(type='Pad', size_divisor=32)])]
        return dict(
            model=dict(type='DINO', backbone=dict(type='InternImage')),
            optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
            lr_config=dict(policy='step', step=[]), runner=dict(type='IterBasedRunner',
                                                                max_iters=10),
            data=dict(samples_per_gpu=1, train=train, test=dict(type='VOCDataset', pipeline=test)))
    inner = [dict(type='Resize', img_scale=(1000, 600), keep_ratio=True)]
    wrapped = dict(type='RepeatDataset', times=3, dataset=dict(type='VOCDataset', pipeline=inner),
                   pipeline=[dict(type='Resize', img_scale=[(2000, 600), (2000, 1200)])])
    facts = published_facts(published(wrapped), 'det')
    assert facts['train.pipeline'] == [['resize', [1000, 600], True]]
    assert facts['train.wrappers'] == [['repeat', 3]]


def test_aug_test_scales_the_test_size_not_the_image():
    """The published --aug-test ratios multiply the configured test size; mmseg 1.x's own TTA
    (Resize(scale_factor=r)) scales the image itself, which the facts tell apart."""
    from segmentation.test_time import multi_scale_flip_test
    pipeline = multi_scale_flip_test((2048, 512), size_divisor=32)
    resizes = pipeline[1]['transforms'][0]
    assert [r['scale'] for r in resizes] == [(1024, 256), (1536, 384), (2048, 512),
                                            (2560, 640), (3072, 768), (3584, 896)]
    assert pipeline[1]['transforms'][1] == [dict(type='ResizeToMultiple', size_divisor=32)]
    mmseg_style = [dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in (0.5, 1.0)],
        [dict(type='RandomFlip', prob=0.0), dict(type='RandomFlip', prob=1.0)]])]
    assert recipe_facts._our_test(mmseg_style, 'seg')['scales'] == [
        ['scale_factor', 0.5], ['scale_factor', 1.0]]
