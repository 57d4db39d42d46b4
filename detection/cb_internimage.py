"""CB-InternImage: the composite backbone (CBNetV2, Liang et al., arXiv 2107.00420) of two
InternImage trunks behind the published 65.4 mAP DINO system, which mmdet 3.3 does not have.

The assisting trunk runs first; every level output of it is mapped to each lower level's width
(1x1 convolution), resized to that level's size and summed (dense higher-level composition).
The lead trunk (built without a stem) starts from the assisting trunk's stem output and adds,
before each of its levels, that sum times a zero-initialised per-channel scale (rounded to
float16 as published), so training starts from the plain backbone. Both trunks run the
trunk's own level loop. Parameter names follow the published release (``cb_modules.{0,1}``,
``cb_modules.1.gamma{i}``, ``cb_linears.{i}.{j}``), so the backbone part of its checkpoints
loads."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule

from internimage.models import (DenseOutputs, InternImageTrunk, extract_state_dict,
                                   load_state_dict_into, read_checkpoint)
from internimage.models.internimage import check_image_batch, pretrained_checkpoint
from internimage.models.variants import with_arch

ASSIST, LEAD = 0, 1


class CompositeLeadTrunk(InternImageTrunk):
    """The lead trunk: the levels of a trunk (no stem: it shares the assisting one's) and
    ``gamma{i}``, the scale of the composite input of level i."""

    def __init__(self, **trunk_options):
        super().__init__(stem=False, **trunk_options)
        for i, channels in enumerate(self.level_channels):
            self.register_parameter(f'gamma{i}', nn.Parameter(torch.zeros(channels)))

    def scaled(self, composite_inputs):
        """Each composite input times its scale rounded to float16, as the published
        ``_InternImage.forward`` computes it (``gamma.half() * cb_feats``; the product takes
        the wider dtype), so released models give the published outputs exactly (unrounded:
        ~2e-4 relative on the lead maps, tests/test_published_composition.py)."""
        return [getattr(self, f'gamma{i}').half() * c for i, c in enumerate(composite_inputs)]


def composite_connections(level_channels):
    """``connections[i][j]`` maps the assisting output of level i + j to level i's width."""
    return nn.ModuleList(
        nn.ModuleList(nn.Identity() if j == 0 else
                      nn.Conv2d(level_channels[i + j], level_channels[i], kernel_size=1)
                      for j in range(len(level_channels) - i))
        for i in range(len(level_channels)))


@MODELS.register_module()
class CBInternImage(DenseOutputs, BaseModule):
    """Two InternImage trunks with composite connections. ``forward`` returns
    ``(assisting maps, lead maps)``, each a tuple of NCHW maps of ``out_indices``: training
    supervises both (``CBDINO``), inference uses the lead. ``arch`` names the variant of both
    trunks; ``out_channels``, ``out_strides``, ``frozen_stages`` (the stem and the first k
    levels of both trunks) and ``norm_eval`` are those of the InternImage backbone
    (``DenseOutputs``); the other options are the trunk's.

    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` with a single-backbone checkpoint
    (classification or detection layout) initialises both trunks from it, as CBNet does; a
    composite checkpoint (``cb_modules.*`` keys) loads as it is."""

    def __init__(self, arch=None, out_indices=(1, 2, 3), frozen_stages=-1, norm_eval=False,
                 init_cfg=None, **trunk_options):
        super().__init__(init_cfg)
        trunk_options = with_arch(arch, trunk_options, head=False)
        self.arch = arch
        assist = InternImageTrunk(**trunk_options)
        self.cb_modules = nn.ModuleList([assist, CompositeLeadTrunk(**trunk_options)])
        self.cb_linears = composite_connections(assist.level_channels)
        self.setup_outputs(assist.level_channels, out_indices, frozen_stages, norm_eval)

    def frozen_modules(self, frozen_stages):
        assist, lead = self.cb_modules
        return [assist.patch_embed, *assist.levels[:frozen_stages], *lead.levels[:frozen_stages]]

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
        check_image_batch(x, assist.in_channels, type(self).__name__)
        stem_output = assist.patch_embed(x)
        assist_outputs = assist.run_levels(stem_output)
        lead_outputs = lead.run_levels(stem_output,
                                       lead.scaled(self.composite_inputs(assist_outputs)))
        return self.select_outputs(assist_outputs), self.select_outputs(lead_outputs)

    def init_weights(self):
        checkpoint = pretrained_checkpoint(self.init_cfg)
        if checkpoint is None:
            super().init_weights()
            return
        state_dict = extract_state_dict(read_checkpoint(checkpoint))
        if any(key.startswith('cb_modules.') for key in state_dict):
            load_state_dict_into(self, state_dict, source=checkpoint)
        else:
            load_state_dict_into(self.cb_modules[ASSIST], state_dict, source=checkpoint)
            load_state_dict_into(self.cb_modules[LEAD],
                                 {k: v for k, v in state_dict.items()
                                  if not k.startswith('patch_embed.')}, source=checkpoint)
        self._is_init = True
