# What every FlashInternImage Mask R-CNN and Cascade recipe of OpenGVLab/DCNv4 changes in the
# InternImage one besides the backbone: mmdet's FPN becomes FPN_vitdet, a LayerNorm over the
# channels after every FPN convolution ("for stable training", its configs say; detection/
# fpn_vitdet.py). A config merges it into its neck: neck={{_base_.flash_fpn_neck}}.
flash_fpn_neck = dict(type='FPN_vitdet', norm_cfg=dict(type='LN', requires_grad=True),
                      use_residual=True)
