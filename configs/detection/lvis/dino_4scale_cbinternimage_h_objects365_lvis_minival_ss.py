# DINO on CB-InternImage-H, Objects365 -> LVIS v1, box AP on LVIS v1 minival (published 65.8
# single-scale; published file dino_4scale_cbinternimage_h_objects365_lvis.pth, the same model as
# the val config, which this one changes only in its evaluation set).
_base_ = './dino_4scale_cbinternimage_h_objects365_lvis_val_ss.py'

val_ann = 'annotations/lvis_v1_minival.json'
val_dataloader = dict(dataset=dict(ann_file=val_ann))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=_base_.data_root + val_ann)
test_evaluator = val_evaluator
