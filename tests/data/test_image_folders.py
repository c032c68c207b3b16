import numpy as np
import pytest
from PIL import Image

from deepsad.data.image_folders import read_image_folder


def _save(path, array, mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), mode=mode).save(path)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        _save(tmp_path / "train" / "good" / f"{i:03d}.png", rng.integers(0, 100, (20, 20)))
    for i in range(2):
        _save(tmp_path / "test" / "good" / f"{i:03d}.png", rng.integers(0, 100, (20, 20)))
    scratch = rng.integers(0, 100, (20, 20))
    scratch[5:8, :] = 255
    _save(tmp_path / "test" / "scratch" / "000.png", scratch)
    mask = np.zeros((20, 20))
    mask[5:8, :] = 255
    _save(tmp_path / "ground_truth" / "scratch" / "000_mask.png", mask)
    _save(tmp_path / "test" / "stain" / "000.png", rng.integers(0, 100, (24, 24)))  # another size, no mask
    return tmp_path


def test_the_industrial_layout_is_read_with_labels_and_masks(folder):
    data = read_image_folder(folder)
    assert data.X_train.shape == (4, 1, 20, 20) and data.X_train.dtype == np.float32
    assert data.X_test.shape == (4, 1, 20, 20)  # the 24×24 stain is resized
    assert data.y_test.tolist() == [0, 0, 1, 1] and data.defects.tolist() == ["good", "good", "scratch", "stain"]
    assert data.has_mask.tolist() == [False, False, True, False]
    assert data.masks[2, 5:8].all() and data.masks[2].sum() == 60 and not data.masks[3].any()
    assert 0 <= data.X_test.min() and data.X_test.max() == 1.0
    assert data.paths[2].name == "000.png" and data.paths[2].parent.name == "scratch"


def test_a_size_can_be_asked_for_and_colour_images_keep_three_channels(tmp_path):
    rng = np.random.default_rng(1)
    _save(tmp_path / "train" / "good" / "a.png", rng.integers(0, 255, (10, 12, 3)), mode="RGB")
    _save(tmp_path / "test" / "good" / "b.png", rng.integers(0, 255, (10, 12, 3)), mode="RGB")
    data = read_image_folder(tmp_path, image_size=8)
    assert data.X_train.shape == (1, 3, 8, 8) and data.X_test.shape == (1, 3, 8, 8)


def test_missing_folders_and_unreadable_images_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train/good is missing"):
        read_image_folder(tmp_path)
    _save(tmp_path / "train" / "good" / "a.png", np.zeros((4, 4)))
    with pytest.raises(FileNotFoundError, match="test is missing"):
        read_image_folder(tmp_path)
    (tmp_path / "test" / "good").mkdir(parents=True)
    (tmp_path / "test" / "good" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png is not a readable image"):
        read_image_folder(tmp_path)


def test_sixteen_bit_images_are_rescaled_not_clipped(tmp_path):
    values = np.random.default_rng(0).integers(0, 65536, (12, 12)).astype(np.uint16)
    for folder in ("train", "test"):
        path = tmp_path / folder / "good" / "a.png"
        path.parent.mkdir(parents=True)
        Image.fromarray(values).save(path)
    data = read_image_folder(tmp_path)
    np.testing.assert_allclose(data.X_train[0, 0], values / 65535.0, atol=1e-6)
    assert (data.X_train == 1.0).mean() < 0.01


def test_read_images_gives_an_auxiliary_set_shaped_like_the_training_images(tmp_path):
    from PIL import Image

    from deepsad.data.image_folders import read_images

    rng = np.random.default_rng(0)
    (tmp_path / "a" / "b").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 255, (10, 12, 3)).astype(np.uint8)).save(tmp_path / "a" / "x.png")
    Image.fromarray(rng.integers(0, 255, (30, 30)).astype(np.uint8)).save(tmp_path / "a" / "b" / "y.jpg")
    grey = read_images(tmp_path / "a", (16, 16), channels=1)
    colour = read_images(tmp_path / "a", 16, channels=3)
    assert grey.shape == (2, 1, 16, 16) and colour.shape == (2, 3, 16, 16) and grey.dtype == np.float32
    assert 0 <= grey.min() and grey.max() <= 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no images"):
        read_images(tmp_path / "empty", 16, channels=1)
    with pytest.raises(FileNotFoundError, match="is not a folder of images"):
        read_images(tmp_path / "missing", 16, channels=1)
    with pytest.raises(ValueError, match="channels must be 1"):
        read_images(tmp_path / "a", 16, channels=2)
