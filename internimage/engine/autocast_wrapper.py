"""bfloat16 mixed precision where mmengine's AmpOptimWrapper refuses to run: it asserts a GPU
(and brings a loss scaler that bfloat16 does not need), so ``--amp`` on a laptop CPU would fail.
Shared by every task through mmengine's root OPTIM_WRAPPERS registry."""
from contextlib import ExitStack, contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


def to_float32(value):
    """``value`` with every floating-point tensor in it (nested in tuples, lists, dicts)
    converted to float32."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (tuple, list)):
        return type(value)(to_float32(item) for item in value)
    if isinstance(value, dict):
        return {key: to_float32(item) for key, item in value.items()}
    return value


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """OptimWrapper whose forward passes run under ``torch.autocast(dtype=bfloat16)`` on the
    model's device (weights and optimizer state stay float32; bfloat16 has float32's exponent
    range, so no loss scaling).

    ``autocast_modules`` (names of submodules, e.g. ``['backbone', 'neck']``) limits bfloat16 to
    those modules, whose outputs return to float32: mmdet's heads call mmcv ops (NMS, RoIAlign)
    whose CPU kernels take float32 only. By default the whole model runs under autocast."""

    def __init__(self, *args, autocast_modules=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast_modules = list(autocast_modules) if autocast_modules else None

    @contextmanager
    def optim_context(self, model):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), ExitStack() as stack:
            if self.autocast_modules is None:
                stack.enter_context(torch.autocast(device_type, dtype=torch.bfloat16))
            else:
                for name in self.autocast_modules:
                    stack.enter_context(self._autocast_module(model, name, device_type))
            yield

    @staticmethod
    @contextmanager
    def _autocast_module(model, name, device_type):
        """Runs ``model.<name>`` under bfloat16 autocast with float32 outputs, for the
        duration of the context."""
        module = getattr(getattr(model, 'module', model), name, None)
        if not isinstance(module, torch.nn.Module):
            raise ValueError(f'autocast_modules: the model has no submodule {name!r}')
        original_forward = module.forward

        def forward(*args, **kwargs):
            with torch.autocast(device_type, dtype=torch.bfloat16):
                output = original_forward(*args, **kwargs)
            return to_float32(output)

        module.forward = forward
        try:
            yield
        finally:
            del module.forward
