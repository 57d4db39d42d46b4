"""The released segmentation checkpoints' layouts (mmseg 0.x names) as rules into our mmseg 1.2
models (rules and machinery: internimage/models/conversion.py).

UperNet (with the FCN auxiliary head) and the SegFormer head kept mmseg 0.x's names. The
published Mask2Former head (mmdet 2.x layers) became mmdet 3.3's, which mmseg 1.2 uses: the
pixel decoder's encoder layer is (self_attn, norm, ffn, norm), so ``attentions.0`` is its
deformable self-attention; the transformer decoder layer's published operation order is
(cross_attn, norm, self_attn, norm, ffn, norm), so ``attentions.0`` is the cross-attention and
``attentions.1`` the self-attention, norms keep their indices.
"""
from internimage.models.conversion import (CLASSIFICATION_TO_BACKBONE, Layout, Rule, keep,
                                              is_classification_release)

_PIXEL = r'decode_head\.pixel_decoder\.encoder\.layers\.(\d+)\.'
_DECODER = r'decode_head\.transformer_decoder\.layers\.(\d+)\.'
_NEW_PIXEL = r'decode_head.pixel_decoder.encoder.layers.\1.'
_NEW_DECODER = r'decode_head.transformer_decoder.layers.\1.'
MASK2FORMER_HEAD_RULES = (
    Rule(_PIXEL + r'attentions\.0\.(.+)', _NEW_PIXEL + r'self_attn.\2'),
    Rule(_PIXEL + r'ffns\.0\.(.+)', _NEW_PIXEL + r'ffn.\2'),
    Rule(_DECODER + r'attentions\.0\.(.+)', _NEW_DECODER + r'cross_attn.\2'),
    Rule(_DECODER + r'attentions\.1\.(.+)', _NEW_DECODER + r'self_attn.\2'),
    Rule(_DECODER + r'ffns\.0\.(.+)', _NEW_DECODER + r'ffn.\2'),
) + keep('decode_head')

ENCODER_DECODER = Layout('mmseg 0.x UperNet / SegFormer head',
                         keep('backbone', 'decode_head', 'auxiliary_head'))
MASK2FORMER = Layout('published Mask2Former (mmdet 2.x layers)',
                     keep('backbone') + MASK2FORMER_HEAD_RULES)
LAYOUTS = {'UPerHead': ENCODER_DECODER, 'SegformerHead': ENCODER_DECODER,
           'InternImageMask2FormerHead': MASK2FORMER}


def layout_for(model_cfg, source_names):
    """The layout that converts a release with ``source_names`` for the segmentor
    ``model_cfg`` (by its decode head): a classification release fills its backbone, a
    segmentor's release the whole model."""
    if is_classification_release(source_names):
        return CLASSIFICATION_TO_BACKBONE
    head = model_cfg['decode_head']['type']
    if head not in LAYOUTS:
        raise KeyError(f'no released checkpoint layout for decode head {head!r}; known: '
                       f'{sorted(LAYOUTS)}')
    return LAYOUTS[head]
