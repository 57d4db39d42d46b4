# Mask2Former, FlashInternImage-S, 640x640, 160k, "nsmx": the S recipe with the pixel decoder's
# deformable attention using its sampling weights without the softmax (published
# CustomMultiScaleDeformableAttention(use_softmax=False); no number or checkpoint published);
# 8 GPUs x 2 images.
_base_ = './mask2former_flash_internimage_s_640_160k_ade20k_ss.py'

model = dict(decode_head=dict(pixel_decoder=dict(type='mmdet.UnnormalizedMSDeformAttnPixelDecoder')))
