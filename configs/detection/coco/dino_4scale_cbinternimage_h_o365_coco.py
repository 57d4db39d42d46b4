# DINO 4-scale on the composite backbone CB-InternImage-H (two InternImage-H trunks,
# detection.CBInternImage), Objects365 -> COCO fine-tuning: the published 65.0 val / 65.4
# test-dev mAP system. Training supervises the assisting trunk's features too, with weight 0.5
# (detection.CBDINO); inference uses the lead trunk. Starts, as published, from the released
# Objects365 detector (mmdet 2.x layout: tools/train.py converts it in memory).
_base_ = './dino_4scale_internimage_h_o365_coco.py'

load_from = 'checkpoints/dino_4scale_cbinternimage_h_objects365_80classes.pth'

model = dict(type='CBDINO', assist_loss_weight=0.5, backbone=dict(type='CBInternImage'))
