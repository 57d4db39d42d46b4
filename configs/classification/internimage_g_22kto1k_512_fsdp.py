# internimage_g_22kto1k_512.py trained with FSDP (each InternImage layer a shard unit; checkpoints
# hold one full state dict):
#   tools/slurm_train.sh PARTITION JOB \
#       configs/classification/internimage_g_22kto1k_512_fsdp.py WORK_DIR
# The recipe's optimizer, parameter groups and clipping, by the norm of the whole gradient; in
# float32: the published float16 autocast is mmengine's AmpOptimWrapper, which does not shard
# (FSDP's own mixed precision goes in model_wrapper, see _base_/sharding/fsdp.py); nor is the
# float16 gradient all-reduce (FP16CompressedDDP) carried over: FSDP reduces in float32.
_base_ = ['./internimage_g_22kto1k_512.py', '../_base_/sharding/fsdp.py']

optim_wrapper = dict(
    _delete_=True, type='ShardedOptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    constructor='ClassificationLayerDecayConstructor',
    paramwise_cfg=dict(lr_layer_decay=False, dcn_lr_mul=0.1),
    clip_grad=dict(max_norm=5.0))
