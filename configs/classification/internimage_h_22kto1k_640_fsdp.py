# internimage_h_22kto1k_640.py trained with FSDP (each InternImage layer a shard unit; checkpoints
# hold one full state dict):
#   tools/slurm_train.sh PARTITION JOB \
#       configs/classification/internimage_h_22kto1k_640_fsdp.py WORK_DIR
_base_ = ['./internimage_h_22kto1k_640.py', '../_base_/sharding/fsdp.py']

optim_wrapper = dict(type='ShardedOptimWrapper')
