"""The published implementation's data (../shared/published, its README): state-dict key lists
of released models and fixtures of their outputs. Tests using it skip with a message when the
folder is absent; nothing of it is part of the repository."""
import ast
import importlib.util
from pathlib import Path

import pytest

PUBLISHED = Path(__file__).resolve().parents[2] / 'shared' / 'published'
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


def needs_published(path):
    """``path`` under the published data, or a skip saying where it was looked for."""
    full = PUBLISHED / path
    if not full.exists():
        pytest.skip(f'published implementation data not found at {full}')
    return full


def our_config(published_name):
    return f'configs/{CONFIG_OF[published_name]}.py'


def read_key_list(published_name):
    """``{name: shape}`` of a released model's state dict (lines ``name<TAB>(shape)``; lines
    starting with # are notes)."""
    path = needs_published(f'keys/{published_name}.txt')
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
                                                  PUBLISHED / 'load_fixture.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_fixture(str(path))
