# The classification demo trained with FSDP (mmengine's FlexibleRunner), as the H/G configs
# are: tools/dist_train.sh configs/classification/demo/internimage_demo_shapes_fsdp.py 2
_base_ = ['./internimage_demo_shapes.py', '../../_base_/sharding/fsdp.py']

optim_wrapper = dict(type='ShardedOptimWrapper')
