# upernet_internimage_h_896_160k_ade20k.py trained with FSDP (each InternImage layer a shard
# unit, checkpoints one full state dict), for GPUs where gradient checkpointing alone does not
# fit the 1B backbone:
#   tools/slurm_train.sh PARTITION JOB \
#       configs/segmentation/ade20k/upernet_internimage_h_896_160k_ade20k_fsdp.py WORK_DIR
_base_ = ['./upernet_internimage_h_896_160k_ade20k.py', '../../_base_/sharding/fsdp.py']

optim_wrapper = dict(type='ShardedOptimWrapper')
