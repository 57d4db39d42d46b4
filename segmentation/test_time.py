"""The multi-scale + flip test of the published segmentation numbers, for configs'
``tta_pipeline`` (run by ``tools/test.py --tta``).

The published "multi-scale" results of single-scale configs come from its ``test.py --aug-test``,
which set ``img_ratios=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75]`` and ``flip=True`` on the test
pipeline's MultiScaleFlipAug: each ratio scales the config's test size (mmseg 0.x semantics).
mmseg 1.x's own dataset files scale the *original* image instead (``Resize(scale_factor=r)``),
which differs wherever images are not already at the test size (COCO-Stuff, Pascal Context,
NYU, ADE20K)."""

AUG_TEST_RATIOS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)


def multi_scale_flip_test(test_scale, ratios=AUG_TEST_RATIOS, size_divisor=None):
    """A TestTimeAug pipeline: a keep-ratio resize to ``test_scale`` times each ratio
    (truncated to int, as mmseg 0.x did), then, where the published pipeline had
    ``ResizeToMultiple``, a resize to a multiple of ``size_divisor``; each with and without a
    horizontal flip."""
    groups = [[dict(type='Resize', scale=(int(test_scale[0] * r), int(test_scale[1] * r)),
                    keep_ratio=True) for r in ratios]]
    if size_divisor is not None:
        groups.append([dict(type='ResizeToMultiple', size_divisor=size_divisor)])
    groups += [[dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                dict(type='RandomFlip', prob=1.0, direction='horizontal')],
               [dict(type='LoadAnnotations')],
               [dict(type='PackSegInputs')]]
    return [dict(type='LoadImageFromFile'), dict(type='TestTimeAug', transforms=groups)]
