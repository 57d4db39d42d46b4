# upernet_internimage_g_896_160k_ade20k.py trained with FSDP (each InternImage layer a shard
# unit, checkpoints one full state dict): the published G recipe relied on with_cp alone.
_base_ = ['./upernet_internimage_g_896_160k_ade20k.py', '../../_base_/sharding/fsdp.py']

optim_wrapper = dict(type='ShardedOptimWrapper')
