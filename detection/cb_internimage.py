"""CB-InternImage: the composite backbone (CBNetV2, Liang et al., arXiv 2107.00420) of two
InternImage trunks behind the published 65.4 mAP DINO system, which mmdet 3.3 does not have.

The assisting trunk runs first; every level output of it is mapped to each lower level's width
(1x1 convolution), resized to that level's size and summed (dense higher-level composition).
The lead trunk starts from the assisting trunk's stem output and adds, before each of its
levels, that sum times a zero-initialised per-channel scale, so training starts from the plain
backbone. Parameter names follow the published release (``cb_modules.{0,1}``,
``cb_modules.1.gamma{i}``, ``cb_linears.{i}.{j}``), so the backbone part of its checkpoints
loads."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule

from classification.checkpoint import extract_state_dict, load_state_dict_into, read_checkpoint
from classification.internimage import InternImageTrunk

ASSIST, LEAD = 0, 1


class CompositeLeadTrunk(InternImageTrunk):
    """The lead trunk: no stem of its own, and ``gamma{i}`` scaling the composite input of
    level i."""

    def __init__(self, **trunk_options):
        super().__init__(**trunk_options)
        del self.patch_embed
        for i, channels in enumerate(self.level_channels):
            self.register_parameter(f'gamma{i}', nn.Parameter(torch.zeros(channels)))

    def forward_levels(self, stem_output, composite_inputs):
        """NHWC level outputs from the shared stem output and one NHWC composite input per
        level."""
        scaled = [getattr(self, f'gamma{i}') * c for i, c in enumerate(composite_inputs)]
        return run_levels(self.levels, stem_output, scaled)


def run_levels(levels, x, level_inputs=None):
    """NHWC output of every level (before its downsample), ``level_inputs[i]`` added to the
    input of level i."""
    outputs = []
    for i, level in enumerate(levels):
        if level_inputs is not None:
            x = x + level_inputs[i]
        output, x = level(x)
        outputs.append(output)
    return outputs


def composite_connections(level_channels):
    """``connections[i][j]`` maps the assisting output of level i + j to level i's width."""
    return nn.ModuleList(
        nn.ModuleList(nn.Identity() if j == 0 else
                      nn.Conv2d(level_channels[i + j], level_channels[i], kernel_size=1)
                      for j in range(len(level_channels) - i))
        for i in range(len(level_channels)))


@MODELS.register_module()
class CBInternImage(BaseModule):
    """Two InternImage trunks with composite connections. ``forward`` returns
    ``(assisting maps, lead maps)``, each a tuple of NCHW maps of ``out_indices``: training
    supervises both (``CBDINO``), inference uses the lead. Takes every option of
    ``InternImageTrunk``.

    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` with a single-backbone checkpoint
    (classification or detection layout) initialises both trunks from it, as CBNet does; a
    composite checkpoint (``cb_modules.*`` keys) loads as it is."""

    def __init__(self, out_indices=(1, 2, 3), init_cfg=None, **trunk_options):
        super().__init__(init_cfg)
        assist = InternImageTrunk(**trunk_options)
        num_levels = len(assist.levels)
        if not out_indices or any(not 0 <= i < num_levels for i in out_indices):
            raise ValueError(f'out_indices {list(out_indices)} must be level indices in '
                             f'[0, {num_levels})')
        self.cb_modules = nn.ModuleList([assist, CompositeLeadTrunk(**trunk_options)])
        self.cb_linears = composite_connections(assist.level_channels)
        self.out_indices = tuple(out_indices)
        self.out_channels = tuple(assist.level_channels[i] for i in self.out_indices)

    def composite_inputs(self, assist_outputs):
        """NHWC input added before each lead level: the sum of the mapped assisting outputs of
        that level and all higher ones, resized (nearest) to the level's size."""
        inputs = []
        for i, connections in enumerate(self.cb_linears):
            size = assist_outputs[i].shape[1:3]
            total = 0
            for j, connection in enumerate(connections):
                mapped = connection(assist_outputs[i + j].permute(0, 3, 1, 2))
                if mapped.shape[2:] != size:
                    mapped = F.interpolate(mapped, size=size, mode='nearest')
                total = total + mapped.permute(0, 2, 3, 1)
            inputs.append(total)
        return inputs

    def forward(self, x):
        assist, lead = self.cb_modules
        if x.dim() != 4 or x.shape[1] != assist.in_channels:
            raise ValueError(f'CBInternImage: expected an (N, {assist.in_channels}, H, W) image '
                             f'batch, got shape {tuple(x.shape)}')
        stem_output = assist.patch_embed(x)
        assist_outputs = run_levels(assist.levels, stem_output)
        lead_outputs = lead.forward_levels(stem_output, self.composite_inputs(assist_outputs))
        return tuple(tuple(outputs[i].permute(0, 3, 1, 2).contiguous() for i in self.out_indices)
                     for outputs in (assist_outputs, lead_outputs))

    def init_weights(self):
        init_cfg = self.init_cfg
        if not (isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        state_dict = extract_state_dict(read_checkpoint(init_cfg['checkpoint']))
        if any(key.startswith('cb_modules.') for key in state_dict):
            load_state_dict_into(self, state_dict)
        else:
            load_state_dict_into(self.cb_modules[ASSIST], state_dict)
            load_state_dict_into(self.cb_modules[LEAD],
                                 {k: v for k, v in state_dict.items()
                                  if not k.startswith('patch_embed.')})
        self._is_init = True
