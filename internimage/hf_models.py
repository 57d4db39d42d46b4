"""InternImage as Hugging Face transformers models: ``InternImageConfig`` (the fields of the
published hub repos' ``config.json``), ``InternImageModel`` (the four levels' maps and the
pooled features) and ``InternImageForImageClassification`` (logits), ``PreTrainedModel``s around
our classifier. Importing this module registers them with the Auto classes (model_type
``internimage``) and registers the published hub weight layout: entries under ``model.`` with
the layer scales named ``layer_scale1/2`` (the published conversion renamed ``gamma``, which
older transformers rewrote to ``weight`` on load). So a published hub folder loads without
remote code, and ``save_pretrained`` writes that layout back:

    import internimage.hf_models
    model = AutoModelForImageClassification.from_pretrained('path/to/internimage_t_1k_224')
    processor = image_processor('internimage_t.in1k')   # the published preprocessor settings
"""
from transformers import (AutoConfig, AutoModel, AutoModelForImageClassification,
                          CLIPImageProcessor, PretrainedConfig, PreTrainedModel)
from transformers.conversion_mapping import register_checkpoint_conversion_mapping
from transformers.core_model_loading import WeightRenaming
from transformers.modeling_outputs import (BaseModelOutputWithPoolingAndNoAttention,
                                           ImageClassifierOutputWithNoAttention)
from torch.nn import functional as F

from internimage.models.heads import CONV_HEAD_SCALE
from internimage.models.internimage import InternImageClassifier
from internimage.models.variants import arch_options, pretrained_cfg, variant_name

MODEL_TYPE = 'internimage'
# config.json fields of the published hub repos (classification/huggingface/*/config.json)
# that are options of our trunk under the same name
TRUNK_FIELDS = ('core_op', 'depths', 'groups', 'channels', 'dw_kernel_size', 'layer_scale',
                'offset_scale', 'mlp_ratio', 'post_norm', 'res_post_norm', 'level2_post_norm',
                'level2_post_norm_block_ids', 'center_feature_scale', 'use_clip_projector',
                'remove_center', 'num_classes', 'drop_path_rate', 'act_layer', 'norm_layer',
                'with_cp')


class InternImageConfig(PretrainedConfig):
    """The published hub repos' configuration fields; ``from_variant`` fills them from the
    variant record."""
    model_type = MODEL_TYPE

    def __init__(self, core_op='DCNv3', depths=(4, 4, 18, 4), groups=(4, 8, 16, 32), channels=64,
                 dw_kernel_size=None, layer_scale=None, offset_scale=1.0, mlp_ratio=4.0,
                 post_norm=False, res_post_norm=False, level2_post_norm=False,
                 level2_post_norm_block_ids=None, center_feature_scale=False,
                 use_clip_projector=False, remove_center=False, num_classes=1000, drop_rate=0.0,
                 drop_path_rate=0.0, drop_path_type='linear', act_layer='GELU', norm_layer='LN',
                 cls_scale=CONV_HEAD_SCALE, with_cp=False, **kwargs):
        super().__init__(**kwargs)
        self.core_op, self.depths, self.groups = core_op, list(depths), list(groups)
        self.channels, self.dw_kernel_size, self.layer_scale = channels, dw_kernel_size, layer_scale
        self.offset_scale, self.mlp_ratio, self.post_norm = offset_scale, mlp_ratio, post_norm
        self.res_post_norm, self.level2_post_norm = res_post_norm, level2_post_norm
        self.level2_post_norm_block_ids = level2_post_norm_block_ids
        self.center_feature_scale = center_feature_scale
        self.use_clip_projector = use_clip_projector
        self.remove_center, self.num_classes, self.drop_rate = remove_center, num_classes, drop_rate
        self.drop_path_rate, self.drop_path_type = drop_path_rate, drop_path_type
        self.act_layer, self.norm_layer, self.cls_scale = act_layer, norm_layer, cls_scale
        self.with_cp = with_cp

    @classmethod
    def from_variant(cls, name, **overrides):
        """The configuration of variant ``name`` (``'internimage_t'`` or ``'t'``)."""
        options = arch_options(variant_name(name))
        return cls(**{k: v for k, v in options.items() if k in TRUNK_FIELDS}, **overrides)

    def trunk_options(self):
        """Our classifier's options; a field the published model had but never set otherwise is
        refused when it differs from what all releases used."""
        fixed = dict(drop_rate=0.0, drop_path_type='linear', cls_scale=CONV_HEAD_SCALE)
        for name, value in fixed.items():
            if getattr(self, name) != value:
                raise ValueError(f'InternImageConfig.{name}={getattr(self, name)!r} is not '
                                 f'supported (every release has {value!r})')
        return {name: getattr(self, name) for name in TRUNK_FIELDS}


class InternImagePreTrainedModel(PreTrainedModel):
    config_class = InternImageConfig
    base_model_prefix = 'model'
    main_input_name = 'pixel_values'

    def __init__(self, config):
        super().__init__(config)
        self.model = InternImageClassifier(**config.trunk_options())
        self.post_init()

    def _init_weights(self, module):
        """Our classifier initialised itself when it was built (the published init)."""

    def levels_and_pooled(self, pixel_values):
        """The levels' NCHW maps and the head's pooled features."""
        levels = self.model.forward_levels(pixel_values)
        pooled = self.model.pool_features(self.model.unpooled_features(levels))
        return tuple(level.permute(0, 3, 1, 2) for level in levels), pooled


class InternImageModel(InternImagePreTrainedModel):
    """The four levels' NCHW maps (``hidden_states``, the last as ``last_hidden_state``) and the
    head's pooled features (``pooler_output``, before the final Linear)."""

    def forward(self, pixel_values, return_dict=None, **kwargs):
        maps, pooled = self.levels_and_pooled(pixel_values)
        return BaseModelOutputWithPoolingAndNoAttention(
            last_hidden_state=maps[-1], pooler_output=pooled, hidden_states=maps)


class InternImageForImageClassification(InternImagePreTrainedModel):
    """Logits (and the cross-entropy ``loss`` with ``labels``), with the levels' maps."""

    def forward(self, pixel_values, labels=None, return_dict=None, **kwargs):
        maps, pooled = self.levels_and_pooled(pixel_values)
        logits = self.model.head(pooled)
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return ImageClassifierOutputWithNoAttention(loss=loss, logits=logits, hidden_states=maps)


def image_processor(release):
    """The published preprocessor of a release (``'internimage_t.in1k'``; their
    preprocessor_config.json: CLIPImageProcessor, bicubic resize of the short side to the input
    size over crop_pct, centre crop, ImageNet mean and std)."""
    record = pretrained_cfg(release)
    size = int(record.input_size / record.crop_pct)
    return CLIPImageProcessor(
        size={'shortest_edge': size}, crop_size={'height': record.input_size,
                                                 'width': record.input_size},
        do_resize=True, do_center_crop=True, do_normalize=True, resample=3,
        image_mean=list(record.mean), image_std=list(record.std))


AutoConfig.register(MODEL_TYPE, InternImageConfig, exist_ok=True)
AutoModel.register(InternImageConfig, InternImageModel, exist_ok=True)
AutoModelForImageClassification.register(InternImageConfig, InternImageForImageClassification,
                                         exist_ok=True)
register_checkpoint_conversion_mapping(
    MODEL_TYPE, [WeightRenaming('layer_scale1', 'gamma1'),
                 WeightRenaming('layer_scale2', 'gamma2')], overwrite=True)
