"""Mapillary Vistas labels on the Cityscapes classes: the published Mapillary pre-training of
the Cityscapes models (``MapillaryHack`` in mmseg 0.x) trains on Mapillary v1.2 images with
their 66 label ids mapped to the 19 Cityscapes train ids, and validates on Cityscapes. mmseg 1.2
reads Mapillary (``MapillaryDataset_v1``) but has no such mapping; this transform is it,
registered in mmseg's TRANSFORMS, to run right after ``LoadAnnotations``."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

# Cityscapes train id -> the Mapillary v1.2 ids it gathers (the published table)
CITYSCAPES_FROM_MAPILLARY = (
    (13, 24, 41),  # road: road, lane marking - general, manhole
    (2, 15),  # sidewalk: curb, sidewalk
    (17,),  # building
    (6,),  # wall
    (3,),  # fence
    (45, 47),  # pole: pole, utility pole
    (48,),  # traffic light
    (50,),  # traffic sign: traffic sign (front)
    (30,),  # vegetation
    (29,),  # terrain
    (27,),  # sky
    (19,),  # person
    (20, 21, 22),  # rider: bicyclist, motorcyclist, other rider
    (55,),  # car
    (61,),  # truck
    (54,),  # bus
    (58,),  # train: on rails
    (57,),  # motorcycle
    (52,))  # bicycle
MAPILLARY_CLASSES = 66
IGNORE = 255


def mapillary_to_cityscapes_table():
    """A 256-entry lookup table: Mapillary id -> Cityscapes train id, everything else ignored."""
    table = np.full(256, IGNORE, dtype=np.uint8)
    for train_id, mapillary_ids in enumerate(CITYSCAPES_FROM_MAPILLARY):
        table[list(mapillary_ids)] = train_id
    return table


@TRANSFORMS.register_module()
class MapillaryToCityscapes(BaseTransform):
    """Relabels ``gt_seg_map`` from Mapillary v1.2 ids (0..65) to Cityscapes train ids (0..18,
    255 for the 39 Mapillary classes Cityscapes does not have). A label above 65 means the
    maps are not Mapillary v1.2 ids (v2.0 has 124 classes): an error naming the file."""

    def __init__(self):
        self.table = mapillary_to_cityscapes_table()

    def transform(self, results):
        seg = results['gt_seg_map']
        if seg.size and int(seg.max()) >= MAPILLARY_CLASSES:
            raise ValueError(
                f'MapillaryToCityscapes: label {int(seg.max())} in '
                f"{results.get('seg_map_path', 'the label map')} is not a Mapillary v1.2 id "
                f'(0..{MAPILLARY_CLASSES - 1})')
        results['gt_seg_map'] = self.table[seg]
        return results
