"""Classification heads of InternImage (docs/architecture.md, "Heads"): the convolutional head of
T..XL and the attention-pooling CLIP-projector head of H/G. The classifier owns their parts as
top-level attributes, because that is where the published checkpoints keep them."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ops_dcnv3 import build_act_layer, build_norm_layer

CONV_HEAD_SCALE = 1.5
CLIP_TOKEN_DIM = 1024
CLIP_EMBED_DIM = 768
CLIP_NUM_HEADS = 16
CLIP_UPSAMPLE = 2


def build_conv_head(in_channels, act_layer='GELU'):
    """1x1 conv widening by 1.5, BatchNorm, activation: keys ``0.weight`` and ``1.0.*``."""
    hidden = int(in_channels * CONV_HEAD_SCALE)
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden, 1, bias=False),
        build_norm_layer(hidden, 'BN', 'channels_first', 'channels_first'),
        build_act_layer(act_layer))


class PixelShuffle(nn.PixelShuffle):
    """nn.PixelShuffle as a reshape and a permute, whose gradients autograd derives: torch's
    own backward of pixel_shuffle returns a wrongly shaped gradient for an empty batch
    (torch 2.14), so the H/G head could not run backward on an empty batch."""

    def forward(self, x):
        n, channels, height, width = x.shape
        r = self.upscale_factor
        x = x.reshape(n, channels // (r * r), r, r, height, width).permute(0, 1, 4, 2, 5, 3)
        return x.reshape(n, channels // (r * r), height * r, width * r)


def build_clip_token_convs(num_features):
    """The two 1x1 convs that bring level 3 (upsampled by pixel shuffle) and level 2 to the same
    1024-channel stride-16 token map."""
    from_level3 = nn.Sequential(
        nn.Conv2d(num_features, CLIP_TOKEN_DIM * CLIP_UPSAMPLE ** 2, 1),
        PixelShuffle(CLIP_UPSAMPLE))
    from_level2 = nn.Conv2d(num_features // 2, CLIP_TOKEN_DIM, 1)
    return from_level3, from_level2


class CrossAttention(nn.Module):
    """Multi-head attention of queries over separate keys/values. The q/k/v projections keep
    their biases as separate parameters (``q_bias``...), as the published checkpoints do."""

    def __init__(self, dim, num_heads, out_dim):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'CrossAttention: dim ({dim}) must be divisible by num_heads '
                             f'({num_heads})')
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.k_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, out_dim)

    def _split_heads(self, x):
        n, length, dim = x.shape
        return x.reshape(n, length, self.num_heads, dim // self.num_heads).transpose(1, 2)

    def forward(self, query, key, value):
        q = self._split_heads(F.linear(query, self.q.weight, self.q_bias))
        k = self._split_heads(F.linear(key, self.k.weight, self.k_bias))
        v = self._split_heads(F.linear(value, self.v.weight, self.v_bias))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).flatten(2))


class AttentionPooling(nn.Module):
    """Pools (N, L, dim) tokens to (N, out_dim) with one query: the normalised token mean."""

    def __init__(self, dim=CLIP_TOKEN_DIM, num_heads=CLIP_NUM_HEADS, out_dim=CLIP_EMBED_DIM):
        super().__init__()
        self.norm1_q = build_norm_layer(dim, 'LN')
        self.norm1_k = build_norm_layer(dim, 'LN')
        self.norm1_v = build_norm_layer(dim, 'LN')
        self.cross_dcn = CrossAttention(dim, num_heads, out_dim)

    def forward(self, tokens):
        query = self.norm1_q(tokens.mean(1, keepdim=True))
        return self.cross_dcn(query, self.norm1_k(tokens), self.norm1_v(tokens)).squeeze(1)
