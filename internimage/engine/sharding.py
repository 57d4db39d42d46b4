"""Sharded training of the 1B/3B variants (H, G) with mmengine's FlexibleRunner and FSDPStrategy.

``internimage_layer_wrap_policy`` (registered in mmengine's FUNCTIONS, so configs name it as
``auto_wrap_policy``) makes every InternImage layer its own FSDP unit: only one layer's full
weights exist at a time, while the stem, downsamplings and heads stay in the root unit.
``InternImageFSDPStrategy`` records the parameters' shapes before sharding them, for the
weight-decay rules of the layer-decay constructors. ``ShardedOptimWrapper`` clips gradients by
their global norm across the shards."""
import torch
from mmengine._strategy import FSDPStrategy
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import FUNCTIONS, OPTIM_WRAPPERS, STRATEGIES
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

from ..models.layers import InternImageLayer
from .layer_decay import record_parameter_ndims


@FUNCTIONS.register_module()
def internimage_layer_wrap_policy(module, recurse, nonwrapped_numel):
    """FSDP auto-wrap policy: one shard unit per ``InternImageLayer``."""
    return transformer_auto_wrap_policy(module, recurse, nonwrapped_numel,
                                        transformer_layer_cls={InternImageLayer})


@STRATEGIES.register_module()
class InternImageFSDPStrategy(FSDPStrategy):
    """mmengine's FSDPStrategy that records the number of dimensions of every parameter
    (``record_parameter_ndims``) before FSDP flattens them: the optimizer is built after the
    wrapping, and without the record no weight gets weight decay (every parameter 1-D)."""

    def _wrap_model(self, model):
        if not is_model_wrapper(model):
            record_parameter_ndims(model)
        return super()._wrap_model(model)


@OPTIM_WRAPPERS.register_module()
class ShardedOptimWrapper(OptimWrapper):
    """mmengine's OptimWrapper for FSDP: gradient-norm clipping on the norm of the whole
    gradient. Under FSDP every process holds a shard of each gradient, and mmengine's
    ``clip_grad_norm_`` would clip (and log) each shard by its own norm."""

    def _clip_grad(self):
        if self.clip_func is not torch.nn.utils.clip_grad_norm_:
            raise ValueError("ShardedOptimWrapper clips by norm only (clip_grad type 'norm')")
        params = [param for group in self.optimizer.param_groups for param in group['params']
                  if param.requires_grad and param.grad is not None and param.grad.numel()]
        norm_type = float(self.clip_grad_kwargs.get('norm_type', 2.0))
        if norm_type != 2.0:
            raise ValueError(f'ShardedOptimWrapper clips by the 2-norm, got norm_type {norm_type}')
        squares = sum((param.grad.detach().float().square().sum() for param in params),
                      torch.zeros((), device=params[0].grad.device if params else 'cpu'))
        torch.distributed.all_reduce(squares)  # every process joins, even with an empty shard
        total_norm = squares.sqrt()
        scale = (self.clip_grad_kwargs['max_norm'] / (total_norm + 1e-6)).clamp(max=1.0)
        for param in params:
            param.grad.detach().mul_(scale.to(param.grad.dtype))
        self.message_hub.update_scalar(f'train/{self.grad_name}', float(total_norm))
