"""The building blocks of the InternImage trunk (docs/architecture.md, "Blocks"). Every block
works on channels-last (N, H, W, C) tensors; the convolutions see them as NCHW views, which
PyTorch runs in its channels_last memory format without copying."""
import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from ops_dcnv3 import (DCNv3, DCNv3_pytorch, DCNv4, DCNv4_pytorch, build_act_layer,
                       build_norm_layer)

CORE_OPS = {'DCNv3': DCNv3, 'DCNv3_pytorch': DCNv3_pytorch, 'DCNv4': DCNv4,
            'DCNv4_pytorch': DCNv4_pytorch}


def resolve_core_op(name):
    """The deformable module class for a config's ``core_op`` string."""
    if name not in CORE_OPS:
        raise ValueError(f"unknown core_op '{name}' (expected one of {sorted(CORE_OPS)})")
    return CORE_OPS[name]


def core_op_options(core, offset_scale=1.0, act_layer='GELU', norm_layer='LN',
                    dw_kernel_size=None, center_feature_scale=False, remove_center=False,
                    use_dcn_v4_op=False, dcn_output_bias=True):
    """What each block passes its deformable module besides channels and group, as the
    published models do: InternImage's DCNv3 modules (3x3, with their own depthwise conv, norm
    and activation), FlashInternImage's DCNv4 modules (offset_scale, dw_kernel_size and
    output_bias alone). An option the module of ``core`` does not take is an error here, where
    the published FlashInternImage ignored it (center_feature_scale then only kept the level
    norms, docs/architecture.md, "FlashInternImage")."""
    if issubclass(core, DCNv4):
        ignored = {'center_feature_scale': center_feature_scale, 'remove_center': remove_center,
                   'use_dcn_v4_op': use_dcn_v4_op}
        for name, value in ignored.items():
            if value:
                raise ValueError(f'{name}={value!r} is not an option of the DCNv4 core '
                                 "(FlashInternImage's blocks do not pass it to DCNv4)")
        return dict(offset_scale=offset_scale, dw_kernel_size=dw_kernel_size,
                    output_bias=dcn_output_bias)
    if not dcn_output_bias:
        raise ValueError('dcn_output_bias=False needs the DCNv4 core: the DCNv3 module always '
                         'has an output projection bias')
    return dict(kernel_size=3, stride=1, pad=1, dilation=1, offset_scale=offset_scale,
                act_layer=act_layer, norm_layer=norm_layer, dw_kernel_size=dw_kernel_size,
                center_feature_scale=center_feature_scale, remove_center=remove_center,
                use_dcn_v4_op=use_dcn_v4_op)


class DropPath(nn.Module):
    """Stochastic depth: in training, drops a sample's whole residual branch with probability
    ``drop_prob`` and scales the kept ones by 1 / (1 - drop_prob), as timm's DropPath does (same
    random draws, so training runs are unchanged); the model needs nothing else from timm."""

    def __init__(self, drop_prob):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep_prob = 1 - self.drop_prob
        keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep_prob)
        if keep_prob > 0:
            keep.div_(keep_prob)
        return x * keep

    def extra_repr(self):
        return f'drop_prob={round(self.drop_prob, 3):0.3f}'


def channels_first_view(x):
    """NHWC -> NCHW without a copy: the result is an NCHW tensor in channels_last memory."""
    return x.permute(0, 3, 1, 2)


class StemLayer(nn.Module):
    """Two 3x3 stride-2 convolutions: NCHW image in, NHWC features at stride 4 out."""

    def __init__(self, in_channels, out_channels, act_layer='GELU', norm_layer='LN'):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels // 2, 3, stride=2, padding=1)
        self.norm1 = build_norm_layer(out_channels // 2, norm_layer, 'channels_first',
                                      'channels_first')
        self.act = build_act_layer(act_layer)
        self.conv2 = nn.Conv2d(out_channels // 2, out_channels, 3, stride=2, padding=1)
        self.norm2 = build_norm_layer(out_channels, norm_layer, 'channels_first', 'channels_last')

    def forward(self, x):
        return self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))


class DownsampleLayer(nn.Module):
    """3x3 stride-2 convolution doubling the channels, NHWC in and out."""

    def __init__(self, channels, norm_layer='LN'):
        super().__init__()
        self.conv = nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1, bias=False)
        self.norm = build_norm_layer(2 * channels, norm_layer, 'channels_first', 'channels_last')

    def forward(self, x):
        return self.norm(self.conv(channels_first_view(x)))


class MLPLayer(nn.Module):
    """fc1, activation, fc2; FlashInternImage's fc2 has no bias unless ``fc2_bias``."""

    def __init__(self, channels, hidden_channels, act_layer='GELU', fc2_bias=True):
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden_channels)
        self.act = build_act_layer(act_layer)
        self.fc2 = nn.Linear(hidden_channels, channels, bias=fc2_bias)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class InternImageLayer(nn.Module):
    """One block: a deformable (DCNv3 or DCNv4) residual branch then an MLP residual branch,
    each normalised in one of three published ways (pre-norm, post_norm, res_post_norm) and
    optionally layer-scaled.

    res_post_norm with layer_scale (no published variant has both) scales the normalised branch;
    the published code silently dropped res_post_norm then."""

    def __init__(self, core_op, channels, groups, mlp_ratio=4.0, drop_path=0.0, act_layer='GELU',
                 norm_layer='LN', post_norm=False, res_post_norm=False, layer_scale=None,
                 mlp_fc2_bias=True, with_cp=False, **core_options):
        super().__init__()
        if post_norm and res_post_norm:
            raise ValueError('post_norm and res_post_norm are exclusive: post_norm already '
                             'normalises the residual branch')
        self.post_norm = post_norm
        self.with_cp = with_cp
        self.norm1 = build_norm_layer(channels, 'LN')
        self.dcn = core_op(channels=channels, group=groups,
                           **core_op_options(core_op, act_layer=act_layer, norm_layer=norm_layer,
                                             **core_options))
        self.norm2 = build_norm_layer(channels, 'LN')
        self.mlp = MLPLayer(channels, int(channels * mlp_ratio), act_layer, mlp_fc2_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        if layer_scale is None:
            self.register_parameter('gamma1', None)
            self.register_parameter('gamma2', None)
        else:
            self.gamma1 = nn.Parameter(torch.full((channels,), float(layer_scale)))
            self.gamma2 = nn.Parameter(torch.full((channels,), float(layer_scale)))
        if res_post_norm:
            self.res_post_norm1 = build_norm_layer(channels, 'LN')
            self.res_post_norm2 = build_norm_layer(channels, 'LN')
        else:
            self.res_post_norm1 = self.res_post_norm2 = None

    def _residual(self, x, branch, norm, res_post_norm, gamma):
        if self.post_norm:
            y = norm(branch(x))
        else:
            y = branch(norm(x))
            if res_post_norm is not None:
                y = res_post_norm(y)
        if gamma is not None:
            y = gamma * y
        return x + self.drop_path(y)

    def _forward(self, x):
        x = self._residual(x, self.dcn, self.norm1, self.res_post_norm1, self.gamma1)
        return self._residual(x, self.mlp, self.norm2, self.res_post_norm2, self.gamma2)

    def forward(self, x):
        if self.with_cp and torch.is_grad_enabled():
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


class InternImageLevel(nn.Module):
    """The blocks of one resolution, the optional level norms, then the optional downsample.

    forward returns (output before the downsample, downsampled output or None): detection and the
    H/G head use the former, the next level the latter."""

    def __init__(self, channels, depth, drop_path, downsample, norm_layer='LN', post_norm=False,
                 center_feature_scale=False, post_norm_block_ids=None, **block_options):
        super().__init__()
        self.blocks = nn.ModuleList([
            InternImageLayer(channels=channels, drop_path=drop_path[i], norm_layer=norm_layer,
                             post_norm=post_norm, center_feature_scale=center_feature_scale,
                             **block_options)
            for i in range(depth)])
        self.post_norm_positions = {}
        if post_norm_block_ids:
            if any(not 0 <= i < depth for i in post_norm_block_ids):
                raise ValueError(f'post-norm block ids {list(post_norm_block_ids)} must lie in '
                                 f'[0, {depth})')
            self.post_norms = nn.ModuleList(
                [build_norm_layer(channels, 'LN') for _ in post_norm_block_ids])
            self.post_norm_positions = {block: k for k, block in enumerate(post_norm_block_ids)}
        # The published rule for the level norm (its checkpoints have it exactly then).
        self.norm = (build_norm_layer(channels, 'LN')
                     if not post_norm or center_feature_scale else None)
        self.downsample = DownsampleLayer(channels, norm_layer) if downsample else None

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.post_norm_positions:
                x = self.post_norms[self.post_norm_positions[i]](x)
        if self.norm is not None:
            x = self.norm(x)
        return x, (self.downsample(x) if self.downsample is not None else None)
