"""The released detection checkpoints' layouts (mmdet 2.x names) as rules into our mmdet 3.3
models (rules and machinery: internimage/models/conversion.py).

Mask R-CNN and Cascade kept mmdet 2's names. The published DINO head (``bbox_head`` holding a
``transformer``, mmcv 1.x layers with ``attentions.i`` / ``ffns.0``) became mmdet 3.3's DINO,
which holds the transformer at the detector's top level: in a decoder layer the published
operation order is (self_attn, norm, cross_attn, norm, ffn, norm), so ``attentions.0`` is the
self-attention and ``attentions.1`` the deformable cross-attention, norms keep their indices;
the encoder layer is (self_attn, norm, ffn, norm). The published reference-point MLP is an
``nn.Sequential(Linear, ReLU, Linear)`` (indices 0 and 2), mmdet 3's an ``MLP`` (layers 0 and
1). CB-DINO's released neck is a one-element list (``neck.0``) of a channel mapper.
"""
from internimage.models.conversion import (CLASSIFICATION_TO_BACKBONE, Layout, Rule, keep,
                                              is_classification_release)

_T = r'bbox_head\.transformer\.'
_LAYER_PARTS = r'(\d+)\.(norms\.\d+\..+)'
DINO_HEAD_RULES = (
    Rule(_T + r'encoder\.layers\.(\d+)\.attentions\.0\.(.+)', r'encoder.layers.\1.self_attn.\2'),
    Rule(_T + r'encoder\.layers\.(\d+)\.ffns\.0\.(.+)', r'encoder.layers.\1.ffn.\2'),
    Rule(_T + r'encoder\.layers\.' + _LAYER_PARTS, r'encoder.layers.\1.\2'),
    Rule(_T + r'decoder\.layers\.(\d+)\.attentions\.0\.(.+)', r'decoder.layers.\1.self_attn.\2'),
    Rule(_T + r'decoder\.layers\.(\d+)\.attentions\.1\.(.+)', r'decoder.layers.\1.cross_attn.\2'),
    Rule(_T + r'decoder\.layers\.(\d+)\.ffns\.0\.(.+)', r'decoder.layers.\1.ffn.\2'),
    Rule(_T + r'decoder\.layers\.' + _LAYER_PARTS, r'decoder.layers.\1.\2'),
    Rule(_T + r'decoder\.norm\.(weight|bias)', r'decoder.norm.\1'),
    Rule(_T + r'decoder\.ref_point_head\.0\.(weight|bias)', r'decoder.ref_point_head.layers.0.\1'),
    Rule(_T + r'decoder\.ref_point_head\.2\.(weight|bias)', r'decoder.ref_point_head.layers.1.\1'),
    Rule(_T + r'level_embeds', 'level_embed'),
    Rule(_T + r'enc_output\.(weight|bias)', r'memory_trans_fc.\1'),
    Rule(_T + r'enc_output_norm\.(weight|bias)', r'memory_trans_norm.\1'),
    Rule(_T + r'query_embed\.weight', 'query_embedding.weight'),
    Rule(r'bbox_head\.label_embedding\.weight', 'dn_query_generator.label_embedding.weight'),
) + keep('bbox_head.cls_branches', 'bbox_head.reg_branches')

TWO_STAGE = Layout('mmdet 2.x Mask R-CNN / Cascade R-CNN',
                   keep('backbone', 'neck', 'rpn_head', 'roi_head'))
DINO = Layout('published DINO (mmdet 2.x DINOHead)', keep('backbone', 'neck') + DINO_HEAD_RULES)
CB_DINO = Layout('published CB-DINO (CBNet backbone, neck list, DINOHead)',
                 keep('backbone') + (Rule(r'neck\.0\.(.+)', r'neck.\1'),) + DINO_HEAD_RULES)
LAYOUTS = {'MaskRCNN': TWO_STAGE, 'CascadeRCNN': TWO_STAGE, 'DINO': DINO, 'CBDINO': CB_DINO}


def layout_for(model_cfg, source_names):
    """The layout that converts a release with ``source_names`` for the detector
    ``model_cfg``: a classification release fills its backbone, a detector's release the whole
    model."""
    if is_classification_release(source_names):
        return CLASSIFICATION_TO_BACKBONE
    if model_cfg['type'] not in LAYOUTS:
        raise KeyError(f"no released checkpoint layout for detector type {model_cfg['type']!r};"
                       f' known: {sorted(LAYOUTS)}')
    return LAYOUTS[model_cfg['type']]
