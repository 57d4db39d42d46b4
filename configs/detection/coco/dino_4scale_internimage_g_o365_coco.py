# DINO 4-scale, InternImage-G, Objects365 -> COCO fine-tuning (the published recipe; see the
# _base_ file). Set `load_from` to the Objects365-pretrained detector.
_base_ = '../../_base_/detection/dino_4scale_internimage_o365_to_coco.py'

from internimage.models.variants import level_channels  # noqa: E402

model = dict(backbone=dict(arch='g'),
             neck=dict(in_channels=level_channels('g', out_indices=(1, 2, 3))))
