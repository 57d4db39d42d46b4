"""The published implementation's data (../shared/published, its README): state-dict key lists
of released models and fixtures of their outputs; nothing of it is part of the repository. And
what the parity tests share: the fixtures' shrunk backbone, our model of a published recipe built
with it, and the comparison with the published outputs.

Where to find it: ``$INTERNIMAGE_PUBLISHED`` when set, else ``../shared/published`` beside the
checkout. When it (or a file of it) is absent, a test using it skips with a message naming the
path; under CI (``CI=true``, as CI services set it) it fails instead, so that a CI run cannot pass
with the parity tests silently left out. (The model helpers import mmengine and the project
when called: the rule needs only pytest.)"""
import ast
import importlib.util
import os
from pathlib import Path

import pytest

DEFAULT_PUBLISHED = Path(__file__).resolve().parents[2] / 'shared' / 'published'
PUBLISHED_ENV = 'INTERNIMAGE_PUBLISHED'
# published config -> our config of the same recipe
CONFIG_OF = {
    'mask_rcnn_internimage_t_fpn_1x_coco': 'detection/coco/mask_rcnn_internimage_t_fpn_1x_coco',
    'cascade_internimage_l_fpn_1x_coco': 'detection/coco/cascade_internimage_l_fpn_1x_coco',
    'cascade_internimage_xl_fpn_3x_crowd_human':
        'detection/crowd_human/cascade_internimage_xl_fpn_3x_crowd_human',
    'dino_4scale_internimage_t_1x_coco_layer_wise_lr':
        'detection/coco/dino_4scale_internimage_t_1x_coco',
    'dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr':
        'detection/coco/dino_4scale_internimage_l_1x_coco_0.1x_backbone_lr',
    'dino_4scale_cbinternimage_h_objects365_coco_ss':
        'detection/coco/dino_4scale_cbinternimage_h_o365_coco',
    'upernet_internimage_t_512_160k_ade20k':
        'segmentation/ade20k/upernet_internimage_t_512_160k_ade20k',
    'upernet_internimage_h_896_160k_ade20k':
        'segmentation/ade20k/upernet_internimage_h_896_160k_ade20k',
    'mask2former_internimage_h_896_80k_cocostuff2ade20k_ss':
        'segmentation/ade20k/mask2former_internimage_h_896_80k_cocostuff2ade20k',
    'segformer_internimage_l_512x1024_80k_mapillary':
        'segmentation/mapillary/segformer_internimage_l_512x1024_80k_mapillary',
    'segformer_internimage_l_512x1024_160k_mapillary2cityscapes':
        'segmentation/cityscapes/segformer_internimage_l_512x1024_160k_mapillary2cityscapes',
}


def published_root():
    """The folder of the published data: ``$INTERNIMAGE_PUBLISHED`` or ../shared/published."""
    return Path(os.environ.get(PUBLISHED_ENV) or DEFAULT_PUBLISHED)


def in_ci():
    """Whether this run is a CI run: ``CI`` set to true (or 1/yes), as CI services set it."""
    return os.environ.get('CI', '').strip().lower() in ('true', '1', 'yes')


def needs_published(path):
    """``path`` under the published data; when it is absent, a skip saying where it was looked
    for, or under CI a failure saying so."""
    full = published_root() / path
    if not full.exists():
        message = (f'published implementation data not found at {full} (looked in '
                   f'{published_root()}; set {PUBLISHED_ENV} to read it from elsewhere)')
        if in_ci():
            pytest.fail(f'CI={os.environ["CI"]}: {message}: the parity tests must run in CI, '
                        'not skip', pytrace=False)
        pytest.skip(message)
    return full


# The backbone as the fixtures shrink it (fixtures/*.txt), over the variant of a recipe's config
SHRUNK = dict(channels=32, depths=[1, 1, 2, 1], groups=[2, 4, 8, 16], init_cfg=None)
# Largest difference from the published outputs, relative to their largest magnitude
TOLERANCE = 1e-4


def our_config(published_name):
    return f'configs/{CONFIG_OF[published_name]}.py'


def shrunk_model(published_name, **model_overrides):
    """(our model of a published recipe with the shrunk backbone, untrained, its config):
    ``model_overrides`` are dotted keys under the config's ``model``, merged after SHRUNK."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    cfg = Config.fromfile(our_config(published_name))
    cfg.model.backbone.update(SHRUNK)
    cfg.merge_from_dict({f'model.{k}': v for k, v in model_overrides.items()})
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    return model, cfg


def published_targets(layout, names):
    """``{published name: the name of our entry it becomes}`` under a released ``layout``."""
    from internimage.models.conversion import first_rule
    targets = {}
    for name in names:
        rule, match = first_rule(layout, name)
        targets[name] = match.expand(rule.target)
    return targets


def load_converted(model, layout, published):
    """``model`` loaded (strictly) from the ``published`` state dict through the converter with
    the released ``layout``; in eval mode."""
    from internimage.models.conversion import convert_state_dict, shapes_of
    state_dict, _ = convert_state_dict(layout, published, shapes_of(model.state_dict()))
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def relative_error(ours, published):
    return float((ours - published).abs().max() / published.abs().max())


def assert_close(ours, published, what):
    """``ours`` equals ``published`` (tensors, or lists of them: one per level) in shape and
    within TOLERANCE; ``what`` names them in the message."""
    if isinstance(ours, (list, tuple)) or isinstance(published, (list, tuple)):
        ours = ours if isinstance(ours, (list, tuple)) else [ours]
        published = published if isinstance(published, (list, tuple)) else [published]
        assert len(ours) == len(published), what
        pairs = [(f'{what}[{level}]', a, b) for level, (a, b) in enumerate(zip(ours, published))]
    else:
        pairs = [(what, ours, published)]
    for name, a, b in pairs:
        assert a.shape == b.shape, f'{name}: {tuple(a.shape)} vs {tuple(b.shape)}'
        error = relative_error(a, b)
        assert error <= TOLERANCE, f'{name}: relative error {error:.2e}'


def read_key_list(published_name, folder='keys'):
    """``{name: shape}`` of a released model's state dict (lines ``name<TAB>(shape)``; lines
    starting with # are notes), from ``keys/`` or, for FlashInternImage, ``keys_flash/``."""
    path = needs_published(f'{folder}/{published_name}.txt')
    shapes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith('#'):
            name, shape = line.split('\t')
            shapes[name] = tuple(ast.literal_eval(shape))
    return shapes


def load_fixture(family):
    """A fixture with its regenerated published state dict (the published loader, run from
    its file: it is data beside the fixtures, not part of the repository)."""
    path = needs_published(f'fixtures/{family}.pt')
    spec = importlib.util.spec_from_file_location('published_load_fixture',
                                                  needs_published('load_fixture.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_fixture(str(path))
