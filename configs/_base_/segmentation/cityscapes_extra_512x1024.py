# The published Cityscapes fine-tuning data after Mapillary pre-training ("cityscapes_extra"):
# the fine train split plus the 20k coarse train_extra images with their refined labels
# (refinement_final/train_extra, named *_gtFine_labelTrainIds.png as the published data), mmseg's
# Cityscapes pipeline (resize (2048, 1024) x 0.5..2.0, 512x1024 crops); validation on val.
_base_ = './cityscapes_512x1024.py'

train_dataloader = dict(dataset=dict(
    _delete_=True, type='ConcatDataset',
    datasets=[dict(type='CityscapesDataset', data_root={{_base_.data_root}},
                   data_prefix=dict(img_path=images, seg_map_path=labels),
                   pipeline={{_base_.train_pipeline}})
              for images, labels in (('leftImg8bit/train', 'gtFine/train'),
                                     ('leftImg8bit/train_extra',
                                      'refinement_final/train_extra'))]))
