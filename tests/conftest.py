"""Fixtures that several test files share."""
import pytest


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory):
    """The tiny classification shapes set (internimage.demo_data.classification), generated
    once per session: 6 classes of 4 training and 2 validation images, 32x32 pixels, i.e. 24
    training images (3 batches of 8) and 12 validation images. Tests read it and write
    nothing into it."""
    from internimage.demo_data.classification import generate
    return generate(str(tmp_path_factory.mktemp('shapes')), num_train_per_class=4,
                    num_val_per_class=2, image_size=32)
