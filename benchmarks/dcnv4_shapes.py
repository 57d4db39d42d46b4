"""The FlashInternImage-T stage shapes and DCNv4 inputs for the DCNv4 benchmarks."""
import torch

# (name, batch, H=W, group, group_channels): FlashInternImage-T at 224x224, batch 8 (channels
# 64 doubling per stage, groups 4, 8, 16, 32: 16 channels per group throughout).
FLASH_T_STAGES = [('T stage1', 8, 56, 4, 16), ('T stage2', 8, 28, 8, 16),
                  ('T stage3', 8, 14, 16, 16), ('T stage4', 8, 7, 32, 16)]


def offset_mask_inputs(batch, size, group, gc, device, dtype=torch.float32, requires_grad=False):
    """Input and offset_mask (3x3, padded to a multiple of 8 as the published module makes it):
    offsets of a few pixels (randn*2), mask values as the published module predicts them
    (unnormalised, here rand*0.2), generated on the CPU for reproducibility."""
    g = torch.Generator().manual_seed(0)
    points = 9
    x = torch.randn(batch, size, size, group * gc, generator=g)
    offset = torch.randn(batch, size, size, group, points * 2, generator=g) * 2
    mask = torch.rand(batch, size, size, group, points, generator=g) * 0.2
    packed = torch.cat([offset, mask], -1).flatten(-2)
    padded = -(-packed.shape[-1] // 8) * 8
    offset_mask = torch.nn.functional.pad(packed, (0, padded - packed.shape[-1]))
    return [t.to(device, dtype).requires_grad_(requires_grad) for t in (x, offset_mask)]
