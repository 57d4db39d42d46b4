# InternImage-G 22k -> 1k fine-tune with layer-wise lr decay: the published
# configs/internimage_g_22kto1k_512.yaml, which adds TRAIN.LR_LAYER_DECAY (ratio 0.9, counted from
# the last block, which trains at the head's lr) and so makes its DCN_LR_MUL 0.1 act (the DCN
# offset and centre-feature-scale projections at 0.1x their layer's lr), over the recipe of the
# released model, ../internimage_g_22kto1k_512.py (published configs/without_lr_decay/, credited
# with the released number). No released file comes from this recipe.
_base_ = '../internimage_g_22kto1k_512.py'

optim_wrapper = dict(paramwise_cfg=dict(lr_layer_decay=True, lr_layer_decay_ratio=0.9,
                                        dcn_lr_mul=0.1))
