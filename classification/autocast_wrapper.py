"""bfloat16 mixed precision where mmengine's AmpOptimWrapper refuses to run: it asserts a GPU
(and brings a loss scaler that bfloat16 does not need), so ``--amp`` on a laptop CPU would fail.
Shared by every task through mmengine's root OPTIM_WRAPPERS registry."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """OptimWrapper whose forward passes run under ``torch.autocast(dtype=bfloat16)`` on the
    model's device (weights and optimizer state stay float32; bfloat16 has float32's exponent
    range, so no loss scaling)."""

    @contextmanager
    def optim_context(self, model):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type, dtype=torch.bfloat16):
            yield
