"""The variant record (internimage/models/variants.py): one name per variant with the arch key
as its alias, a released checkpoint with its evaluation preprocessing for every published
variant, and every pre-trained file a config initialises from is one the record names."""
import glob
import re
from pathlib import Path

import pytest

from internimage.models import (ARCHS, PRETRAINED, PUBLISHED_VARIANTS, arch_options,
                                create_backbone, pretrained_cfg, variant_name)
from internimage.models import factory

ROOT = Path(__file__).resolve().parents[1]


def test_the_arch_key_is_an_alias_of_the_variant_name():
    assert variant_name('xl') == variant_name('internimage_xl') == 'internimage_xl'
    assert arch_options('xl') == arch_options('internimage_xl') == ARCHS['internimage_xl']
    assert create_backbone('test').level_channels == create_backbone(
        'internimage_test').level_channels == (16, 32, 64, 128)
    with pytest.raises(KeyError, match="unknown InternImage variant 'internimage_x'"):
        variant_name('internimage_x')


def test_every_variant_has_its_constructor_named_after_it():
    for name in ARCHS:
        constructor = getattr(factory, name)
        assert constructor.__name__ == name
    assert factory.internimage_test().level_channels == (16, 32, 64, 128)


@pytest.mark.parametrize('name', PUBLISHED_VARIANTS)
def test_every_published_variant_has_a_released_classifier(name):
    released = pretrained_cfg(name)
    arch = name[len('internimage_'):]
    assert released.file.startswith(f'internimage_{arch}_') and released.num_classes == 1000
    assert released.url == 'https://huggingface.co/OpenGVLab/InternImage/resolve/main/' + \
        released.file
    # T/S/B were published at 224, the 22k -> 1k fine-tunes at the size in their file name
    assert released.input_size == int(re.search(r'_(\d+)\.pth$', released.file).group(1))


def test_released_tags_belong_to_known_variants():
    assert all(variant_name(key.split('.')[0]) for key in PRETRAINED)
    assert 'internimage_test' not in {key.split('.')[0] for key in PRETRAINED}
    with pytest.raises(KeyError, match="no released checkpoint 'internimage_test' of "
                                       r"internimage_test \(released: none\)"):
        pretrained_cfg('internimage_test')


def pretrained_files_of_configs():
    """The file names of every checkpoints/internimage_*.pth that a config initialises from."""
    files = set()
    for path in glob.glob(str(ROOT / 'configs' / '**' / '*.py'), recursive=True):
        files |= set(re.findall(r"checkpoints/(internimage_[a-z]+_[\w.]+?\.pth)",
                                Path(path).read_text()))
    return files


def test_every_pretrained_file_of_the_configs_is_in_the_record():
    files = pretrained_files_of_configs()
    released = {record.file for record in PRETRAINED.values()}
    assert files, 'no config names a pre-trained InternImage file'
    assert files <= released, sorted(files - released)


def release_of_config(path):
    """The PRETRAINED record of the released file a classification config is named after
    (``internimage_l_22kto1k_384[_fsdp].py`` -> ``internimage_l_22kto1k_384.pth``)."""
    stem = Path(path).stem.removesuffix('_fsdp')
    records = [record for record in PRETRAINED.values() if record.file == stem + '.pth']
    assert len(records) == 1, f'{path}: no single released file {stem}.pth in the record'
    return records[0]


@pytest.mark.parametrize('path', sorted(glob.glob(str(ROOT / 'configs' / 'classification' /
                                                      'internimage_*.py'))),
                         ids=lambda path: Path(path).stem)
def test_each_recipe_evaluates_with_the_preprocessing_of_its_release(path):
    """A classification recipe and its release's record state the same evaluation: the
    record is what the Predictor uses, the config what tools/test.py uses."""
    from mmengine.config import Config

    transform = Config.fromfile(path).test_dataloader.dataset.transform
    released = release_of_config(path)
    assert (transform.input_size, transform.get('crop_pct', 0.875), transform.interpolation) \
        == (released.input_size, released.crop_pct, released.interpolation)
