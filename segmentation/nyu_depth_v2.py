"""NYU Depth V2 as 40-class semantic segmentation, the data of the published Mask2Former-H
NYU recipe: mmseg 1.2's ``NYUDataset`` reads depth maps, so the published ``NYUDepthV2Dataset``
(mmseg 0.x) is written again here in mmseg 1.x form and registered in mmseg's DATASETS.

On-disk layout (the published data root ``data/nyu_depth_v2/``)::

    image/<name>.png      RGB images
    label40/<name>.png    labels: 0 unlabeled, 1..40 the classes below (reduce_zero_label)
    train.txt, test.txt   one <name> per line, without suffix
"""
import os

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

# the 40-class NYUv2 label set (Gupta et al. 2013), in label order 1..40, as published
CLASSES = ('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
           'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain', 'dresser',
           'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books', 'refridgerator',
           'television', 'paper', 'towel', 'shower curtain', 'box', 'whiteboard', 'person',
           'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure',
           'otherfurniture', 'otherprop')
PALETTE = [[120, 120, 120], [180, 120, 120], [6, 230, 230], [80, 50, 50], [4, 200, 3],
           [120, 120, 80], [140, 140, 140], [204, 5, 255], [230, 230, 230], [4, 250, 7],
           [224, 5, 255], [235, 255, 7], [150, 5, 61], [120, 120, 70], [8, 255, 51],
           [255, 6, 82], [143, 255, 140], [204, 255, 4], [255, 51, 7], [204, 70, 3],
           [0, 102, 200], [61, 230, 250], [255, 6, 51], [11, 102, 255], [255, 7, 71],
           [255, 9, 224], [9, 7, 230], [220, 220, 220], [255, 9, 92], [112, 9, 255],
           [8, 255, 214], [7, 255, 224], [255, 184, 6], [10, 255, 71], [255, 41, 10],
           [7, 255, 255], [224, 255, 8], [102, 8, 255], [255, 61, 6], [255, 194, 7]]


@DATASETS.register_module()
class NYUDepthV2Dataset(BaseSegDataset):
    """The 40 NYUv2 classes from ``.png`` images and label maps listed by a split file
    (``ann_file``); label 0 is unlabeled, hence ``reduce_zero_label=True``. A missing split
    file, folder or listed image is an error naming the path, not an empty or short dataset."""

    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self, img_suffix='.png', seg_map_suffix='.png', reduce_zero_label=True,
                 **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)

    def load_data_list(self):
        if not os.path.isfile(self.ann_file):
            raise FileNotFoundError(f'{type(self).__name__}: split file {self.ann_file} not '
                                    'found (train.txt / test.txt: one image name a line)')
        data_list = super().load_data_list()
        for info in data_list:
            for key in ('img_path', 'seg_map_path'):
                if not os.path.isfile(info[key]):
                    raise FileNotFoundError(f'{type(self).__name__}: {info[key]}, listed in '
                                            f'{self.ann_file}, not found')
        return data_list
