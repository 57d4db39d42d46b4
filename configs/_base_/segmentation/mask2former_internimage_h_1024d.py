# Mask2Former-H with the published wide head of the COCO-Stuff / ADE20K systems: 1024-d
# features and queries, 32 attention heads, 4096-d feed-forward layers, 200 queries, 512
# positional features per axis.
_base_ = './mask2former_internimage_h.py'

attention = dict(embed_dims=1024, num_heads=32)
ffn = dict(embed_dims=1024, feedforward_channels=4096)
model = dict(decode_head=dict(
    feat_channels=1024, out_channels=1024, num_queries=200,
    pixel_decoder=dict(encoder=dict(layer_cfg=dict(self_attn_cfg=attention, ffn_cfg=ffn)),
                       positional_encoding=dict(num_feats=512)),
    positional_encoding=dict(num_feats=512),
    transformer_decoder=dict(layer_cfg=dict(self_attn_cfg=attention, cross_attn_cfg=attention,
                                            ffn_cfg=ffn))))
