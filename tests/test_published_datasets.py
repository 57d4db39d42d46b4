"""The data pieces written for the published recipes that mmdet 3.3 / mmseg 1.2 lack, on tiny
samples in the published on-disk layouts, read through the configs' own dataloader settings:
NYU Depth V2 40-class segmentation, the Mapillary -> Cityscapes label mapping, the Cityscapes
fine + refined-coarse training set, and the VOC 2012 test server's result files."""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import detection  # noqa: F401  (registers VOCSubmissionWriter)
import segmentation  # noqa: F401  (registers NYUDepthV2Dataset, MapillaryToCityscapes)
from detection import VOCSubmissionWriter
from segmentation.mapillary import CITYSCAPES_FROM_MAPILLARY

SEG = 'configs/segmentation/'
NYU_CONFIG = SEG + 'nyu_depth_v2/mask2former_internimage_h_480_40k_nyu.py'
MAPILLARY_CONFIG = SEG + 'mapillary/upernet_internimage_l_512x1024_80k_mapillary.py'
EXTRA_CONFIG = SEG + 'cityscapes/upernet_internimage_l_512x1024_160k_mapillary2cityscapes.py'
VOC12_CONFIG = 'configs/detection/voc/dino_4scale_cbinternimage_h_objects365_voc12.py'


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def image(height=6, width=8):
    return np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)


def build_dataset(dataset_cfg, scope, **changes):
    from mmengine.registry import DATASETS
    init_default_scope(scope)
    return DATASETS.build(dict(dataset_cfg, **changes))


def loading_steps(pipeline, upto):
    """The config's pipeline up to and including the step named ``upto``, then packing."""
    types = [step.type for step in pipeline]
    return [*pipeline[:types.index(upto) + 1], dict(type='PackSegInputs')]


@pytest.fixture
def nyu_root(tmp_path):
    root = tmp_path / 'nyu_depth_v2'
    labels = np.array([[0, 1, 40, 7]] * 6, dtype=np.uint8).repeat(2, axis=1)
    for name in ('0003', '0004'):
        write_png(root / 'image' / f'{name}.png', image())
        write_png(root / 'label40' / f'{name}.png', labels)
    (root / 'train.txt').write_text('0003\n')
    (root / 'test.txt').write_text('0004\n')
    return root


def test_nyu_reads_the_published_layout_with_40_classes_and_zero_unlabeled(nyu_root):
    cfg = Config.fromfile(NYU_CONFIG)
    test_cfg = cfg.test_dataloader.dataset
    dataset = build_dataset(test_cfg, 'mmseg', data_root=str(nyu_root), pipeline=[
        *test_cfg.pipeline[:1], dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='PackSegInputs')])
    assert len(dataset) == 1 and len(dataset.metainfo['classes']) == 40
    assert dataset.metainfo['classes'][0] == 'wall' and dataset[0]['data_samples'].img_path \
        .endswith('image/0004.png')
    labels = dataset[0]['data_samples'].gt_sem_seg.data[0]
    assert labels[0].tolist() == [255, 255, 0, 0, 39, 39, 6, 6]  # 0 ignored, k -> k - 1
    train = build_dataset(cfg.train_dataloader.dataset, 'mmseg', data_root=str(nyu_root))
    assert [info['img_path'][-8:] for info in train.load_data_list()] == ['0003.png']


def test_nyu_names_a_missing_split_file_or_listed_image(nyu_root):
    dataset_cfg = Config.fromfile(NYU_CONFIG).test_dataloader.dataset
    (nyu_root / 'test.txt').unlink()
    with pytest.raises(FileNotFoundError, match='split file .*test.txt not found'):
        build_dataset(dataset_cfg, 'mmseg', data_root=str(nyu_root))
    (nyu_root / 'test.txt').write_text('0004\n0009\n')
    with pytest.raises(FileNotFoundError, match='image/0009.png, listed in .*test.txt'):
        build_dataset(dataset_cfg, 'mmseg', data_root=str(nyu_root))


@pytest.fixture
def mapillary_root(tmp_path):
    """Mapillary v1.2 as published: {training,validation}/{images/*.jpg,labels/*.png}; the
    label map holds every Mapillary id 0..65 once (one row)."""
    root = tmp_path / 'Mapillary'
    ids = np.arange(66, dtype=np.uint8).reshape(1, 66).repeat(2, axis=0)
    for split, name in (('training', 'a'), ('validation', 'b')):
        (root / split / 'images').mkdir(parents=True)
        assert cv2.imwrite(str(root / split / 'images' / f'{name}.jpg'), image(2, 66))
        write_png(root / split / 'labels' / f'{name}.png', ids)
    return root


def mapillary_dataset(root):
    """The Mapillary config's training set up to the label mapping (no random resize/crop)."""
    train = Config.fromfile(MAPILLARY_CONFIG).train_dataloader.dataset
    pipeline = loading_steps(train.datasets[0].pipeline, 'MapillaryToCityscapes')
    for dataset in train.datasets:
        dataset.update(data_root=str(root), pipeline=pipeline)
    return build_dataset(train, 'mmseg')


def test_mapillary_labels_become_the_19_cityscapes_ids_as_published(mapillary_root):
    dataset = mapillary_dataset(mapillary_root)
    assert len(dataset) == 2  # training + validation, as the published recipe
    mapped = dataset[1]['data_samples'].gt_sem_seg.data[0, 0].tolist()
    expected = [255] * 66
    for train_id, mapillary_ids in enumerate(CITYSCAPES_FROM_MAPILLARY):
        for mapillary_id in mapillary_ids:
            expected[mapillary_id] = train_id
    assert mapped == expected
    # spot checks against the Mapillary class names: road, lane marking, car, bird, unlabeled
    classes = dataset.datasets[0].metainfo['classes']
    for name, train_id in (('Road', 0), ('Lane Marking - General', 0), ('Car', 13),
                           ('Bicycle', 18), ('Bird', 255), ('Unlabeled', 255)):
        assert mapped[classes.index(name)] == train_id, name
    assert sorted(set(mapped) - {255}) == list(range(19))


def test_mapillary_mapping_refuses_labels_beyond_v1_2(mapillary_root):
    write_png(mapillary_root / 'validation' / 'labels' / 'b.png',
              np.full((2, 66), 100, dtype=np.uint8))
    with pytest.raises(ValueError, match=r'label 100 in .*validation/labels/b.png .*v1.2'):
        mapillary_dataset(mapillary_root)[1]


def test_cityscapes_fine_tune_reads_fine_and_refined_coarse_training_data(tmp_path):
    root = tmp_path / 'cityscapes'
    for images, labels, name in (('leftImg8bit/train', 'gtFine/train', 'aachen_0'),
                                 ('leftImg8bit/train_extra', 'refinement_final/train_extra',
                                  'augsburg_0')):
        city = name.split('_')[0]
        write_png(root / images / city / f'{name}_leftImg8bit.png', image())
        write_png(root / labels / city / f'{name}_gtFine_labelTrainIds.png',
                  np.full((6, 8), 7, dtype=np.uint8))
    train = Config.fromfile(EXTRA_CONFIG).train_dataloader.dataset
    for dataset in train.datasets:
        dataset.update(data_root=str(root),
                       pipeline=loading_steps(dataset.pipeline, 'LoadAnnotations'))
    dataset = build_dataset(train, 'mmseg')
    paths = [dataset[i]['data_samples'].seg_map_path for i in range(len(dataset))]
    assert [Path(p).relative_to(root).parts[0] for p in paths] == ['gtFine', 'refinement_final']
    assert all(dataset[i]['data_samples'].gt_sem_seg.data.unique().tolist() == [7]
               for i in range(2))


VOC_XML = ('<annotation><filename>{name}.jpg</filename><size><width>8</width><height>6</height>'
           '<depth>3</depth></size></annotation>')


def voc2012_test_root(tmp_path, names):
    """VOC 2012 test as published: VOC2012test/{ImageSets/Main/test.txt, JPEGImages, and the
    Annotations (sizes, no objects) mmdet's VOCDataset reads}."""
    root = tmp_path / 'VOCdevkit' / 'VOC2012test'
    for name in names:
        write_png(root / 'JPEGImages' / f'{name}.jpg', image())
        (root / 'Annotations').mkdir(parents=True, exist_ok=True)
        (root / 'Annotations' / f'{name}.xml').write_text(VOC_XML.format(name=name))
    (root / 'ImageSets' / 'Main').mkdir(parents=True)
    (root / 'ImageSets' / 'Main' / 'test.txt').write_text('\n'.join(names) + '\n')
    return root.parent


def prediction(img_id, boxes, scores, labels):
    return dict(img_id=img_id, pred_instances=InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        scores=torch.tensor(scores), labels=torch.tensor(labels)).to_dict())


def test_voc12_config_reads_the_test_set_and_writes_the_server_files(tmp_path):
    cfg = Config.fromfile(VOC12_CONFIG)
    root = voc2012_test_root(tmp_path, ['2008_000001', '2008_000002'])
    dataset = build_dataset(cfg.test_dataloader.dataset, 'mmdet', data_root=str(root),
                            pipeline=[])
    assert [info['img_id'] for info in dataset.load_data_list()] == ['2008_000001',
                                                                      '2008_000002']
    from mmdet.registry import METRICS
    out = tmp_path / 'submission'
    writer = METRICS.build(dict(cfg.test_evaluator, outfile_dir=str(out)))
    assert isinstance(writer, VOCSubmissionWriter)
    writer.dataset_meta = dataset.metainfo
    classes = dataset.metainfo['classes']
    writer.process({}, [prediction('2008_000001', [[0, 1, 4, 5], [2, 2, 7, 5]], [0.9, 0.25],
                                   [classes.index('person'), classes.index('car')]),
                        prediction('2008_000002', [[1, 0, 3, 3]], [0.5],
                                   [classes.index('person')])])
    assert writer.evaluate(2) == {}
    folder = out / 'results' / 'VOC2012' / 'Main'
    assert sorted(os.listdir(folder)) == sorted(f'comp4_det_test_{c}.txt' for c in classes)
    # 1-based VOC pixel coordinates: mmdet's VOCDataset read them minus one
    assert (folder / 'comp4_det_test_person.txt').read_text() == (
        '2008_000001 0.900000 1.0 2.0 5.0 6.0\n2008_000002 0.500000 2.0 1.0 4.0 4.0\n')
    assert (folder / 'comp4_det_test_car.txt').read_text() == \
        '2008_000001 0.250000 3.0 3.0 8.0 6.0\n'
    assert (folder / 'comp4_det_test_dog.txt').read_text() == ''


def test_voc_submission_writer_refuses_an_unknown_class_and_writes_nothing(tmp_path):
    writer = VOCSubmissionWriter(outfile_dir=str(tmp_path / 'out'))
    writer.dataset_meta = dict(classes=('aeroplane', 'bicycle'))
    writer.process({}, [prediction('x', [[0, 0, 1, 1]], [0.5], [2])])
    with pytest.raises(ValueError, match='image x has a prediction of class 2, not one of the 2'):
        writer.evaluate(1)
    assert not (tmp_path / 'out').exists()
