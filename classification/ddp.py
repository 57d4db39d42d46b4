"""Data-parallel training as the published classification code ran it: ``FP16CompressedDDP``,
mmengine's MMDistributedDataParallel whose gradient all-reduce travels in float16 (each
bucket cast to float16 and divided by the world size, summed, cast back), which the published
main.py registers on its DistributedDataParallel (its ddp_hooks.fp16_compress_hook, the same as
torch's default fp16_compress_hook). Configs: ``model_wrapper_cfg=dict(type=
'FP16CompressedDDP', broadcast_buffers=False)``; a distributed run only (NCCL)."""
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import fp16_compress_hook


@MODEL_WRAPPERS.register_module()
class FP16CompressedDDP(MMDistributedDataParallel):
    """MMDistributedDataParallel with gradients all-reduced in float16."""

    def __init__(self, module, detect_anomalous_params=False, **kwargs):
        super().__init__(module, detect_anomalous_params=detect_anomalous_params, **kwargs)
        self.register_comm_hook(state=None, hook=fp16_compress_hook)
