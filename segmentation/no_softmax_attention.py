"""The pixel decoder of the published FlashInternImage Mask2Former "nsmx" recipe (OpenGVLab/DCNv4,
segmentation/configs/ade20k/mask2former_flash_internimage_s_640_160k_ade20k_ss_nsmx.py): mmdet's
MSDeformAttnPixelDecoder whose encoder's deformable attention uses its sampling weights as
predicted, without the softmax over the levels and points of each head (the published
``CustomMultiScaleDeformableAttention(use_softmax=False)``, in the spirit of DCNv4). The
parameters, their names and everything else are mmcv's and mmdet's."""
import torch
from mmcv.ops.multi_scale_deform_attn import (MultiScaleDeformableAttention,
                                              MultiScaleDeformableAttnFunction,
                                              multi_scale_deformable_attn_pytorch)
from mmdet.models.layers import MSDeformAttnPixelDecoder
from mmdet.registry import MODELS


class UnnormalizedDeformableAttention(MultiScaleDeformableAttention):
    """mmcv's MultiScaleDeformableAttention (batch-first, 2-D reference points, as the pixel
    decoder calls it) with the sampling weights used as the linear layer predicts them."""

    def forward(self, query, key=None, value=None, identity=None, query_pos=None,
                key_padding_mask=None, reference_points=None, spatial_shapes=None,
                level_start_index=None, **kwargs):
        if not self.batch_first or reference_points.shape[-1] != 2:
            raise ValueError('UnnormalizedDeformableAttention: batch-first queries and 2-D '
                             'reference points only (those of the pixel decoder)')
        value = query if value is None else value
        identity = query if identity is None else identity
        if query_pos is not None:
            query = query + query_pos
        batch, num_query, _ = query.shape
        value = self.value_proj(value)
        if key_padding_mask is not None:
            value = value.masked_fill(key_padding_mask[..., None], 0.0)
        value = value.view(batch, value.shape[1], self.num_heads, -1)
        shape = (batch, num_query, self.num_heads, self.num_levels, self.num_points)
        offsets = self.sampling_offsets(query).view(*shape, 2)
        weights = self.attention_weights(query).view(*shape)  # no softmax
        normalizer = torch.stack([spatial_shapes[..., 1], spatial_shapes[..., 0]], -1)
        locations = reference_points[:, :, None, :, None, :] + \
            offsets / normalizer[None, None, None, :, None, :]
        if value.is_cuda:
            output = MultiScaleDeformableAttnFunction.apply(
                value, spatial_shapes, level_start_index, locations, weights, self.im2col_step)
        else:
            output = multi_scale_deformable_attn_pytorch(value, spatial_shapes, locations,
                                                         weights)
        return self.dropout(self.output_proj(output)) + identity


@MODELS.register_module()
class UnnormalizedMSDeformAttnPixelDecoder(MSDeformAttnPixelDecoder):
    """MSDeformAttnPixelDecoder whose encoder layers attend with UnnormalizedDeformableAttention
    (same configuration, same parameters)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for layer in self.encoder.layers:
            layer.self_attn = UnnormalizedDeformableAttention(**layer.self_attn_cfg)
