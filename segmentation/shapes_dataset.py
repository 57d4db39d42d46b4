"""The dataset class of the embedded segmentation demo
(``internimage.demo_data.segmentation``): ADE20K's
layout and label convention with the demo's own classes, registered in mmseg's DATASETS."""
import os

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from internimage.demo_data.segmentation import CLASSES

# background grey, then one saturated colour per shape kind
PALETTE = [[128, 128, 128], [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48]]


@DATASETS.register_module()
class ShapesSegDataset(BaseSegDataset):
    """Rendered shapes in the ADE20K layout: ``.jpg`` images, ``.png`` label maps whose 0 is
    unlabeled, hence ``reduce_zero_label=True`` as for ADE20K. A missing or empty folder says
    how to generate the data instead of yielding an empty dataset."""

    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.png', reduce_zero_label=True,
                 **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)

    def load_data_list(self):
        image_dir = self.data_prefix.get('img_path', '')
        if not os.path.isdir(image_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {image_dir} not found; generate the demo '
                'data with  python tools/generate_demo_data.py --task segmentation')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(f'{type(self).__name__}: no {self.img_suffix} images in '
                                    f'{image_dir}')
        return data_list
