# dino_4scale_internimage_h_o365_coco.py trained with FSDP (each InternImage layer a shard unit,
# checkpoints one full state dict): the published recipe relied on gradient checkpointing
# (kept here) to fit the backbone on one GPU per process.
#   tools/slurm_train.sh PARTITION JOB \
#       configs/detection/coco/dino_4scale_internimage_h_o365_coco_fsdp.py WORK_DIR
_base_ = ['./dino_4scale_internimage_h_o365_coco.py', '../../_base_/sharding/fsdp.py']

optim_wrapper = dict(type='ShardedOptimWrapper')
