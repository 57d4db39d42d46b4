# internimage_h_22kto1k_640.py trained with FSDP (each InternImage layer a shard unit; checkpoints
# hold one full state dict):
#   tools/slurm_train.sh PARTITION JOB \
#       configs/classification/internimage_h_22kto1k_640_fsdp.py WORK_DIR
# The recipe's optimizer, parameter groups and clipping, by the norm of the whole gradient; in
# float32: the published float16 autocast is mmengine's AmpOptimWrapper, which does not shard
# (FSDP's own mixed precision goes in model_wrapper, see _base_/sharding/fsdp.py); nor is the
# float16 gradient all-reduce (FP16CompressedDDP) carried over: FSDP reduces in float32.
_base_ = ['./internimage_h_22kto1k_640.py', '../_base_/sharding/fsdp.py']

# The recipe's optimizer settings taken from it, not restated; only the wrapper changes.
optim_wrapper = dict(
    _delete_=True, type='ShardedOptimWrapper', optimizer={{_base_.optim_wrapper.optimizer}},
    constructor={{_base_.optim_wrapper.constructor}},
    paramwise_cfg={{_base_.optim_wrapper.paramwise_cfg}},
    clip_grad={{_base_.optim_wrapper.clip_grad}})
