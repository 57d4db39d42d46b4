# DINO 4-scale on the composite backbone CB-InternImage-H (two InternImage-H trunks,
# detection.CBInternImage), Objects365 -> COCO fine-tuning: the published 65.0 val / 65.4
# test-dev mAP system. Training supervises the assisting trunk's features too, with weight 0.5
# (detection.CBDINO); inference uses the lead trunk.
_base_ = './dino_4scale_internimage_h_o365_coco.py'

model = dict(type='CBDINO', assist_loss_weight=0.5, backbone=dict(type='CBInternImage'))
