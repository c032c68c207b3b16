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
    with pytest.warns(UserWarning, match="masks for only part"):  # the stain has none
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


def test_floating_point_images_are_scaled_by_their_sets_range_not_truncated(tmp_path):
    def save(path, values):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8), values, dtype=np.float32), mode="F").save(path)

    save(tmp_path / "train" / "good" / "a.tif", 0.7)
    save(tmp_path / "test" / "good" / "b.tif", 0.3)
    data = read_image_folder(tmp_path)
    assert data.X_train.shape == (1, 1, 8, 8)  # mode "F" is grayscale
    np.testing.assert_allclose(data.X_train, 0.7, atol=1e-6)
    np.testing.assert_allclose(data.X_test, 0.3, atol=1e-6)
    # a set in [0, 255]: one divisor for all, so a dark image stays darker than a bright one
    save(tmp_path / "train" / "good" / "c.tif", 200.0)
    data = read_image_folder(tmp_path)
    np.testing.assert_allclose(data.X_train[:, 0, 0, 0], [0.7 / 255, 200 / 255], atol=1e-6)
    np.testing.assert_allclose(data.X_test, 0.3 / 255, atol=1e-6)
    save(tmp_path / "test" / "good" / "d.tif", 700.0)
    with pytest.raises(ValueError, match=r"d.tif holds floating-point pixels up to 700, beyond the \[0, 255\]"):
        read_image_folder(tmp_path)
    save(tmp_path / "train" / "good" / "e.tif", 700.0)
    with pytest.raises(ValueError, match=r"must hold pixels in \[0, 1\] or \[0, 255\]; some in .* reach 700"):
        read_image_folder(tmp_path)
    save(tmp_path / "train" / "good" / "e.tif", -1.0)
    with pytest.raises(ValueError, match=r"e.tif holds negative pixel values"):
        read_image_folder(tmp_path)


def test_big_endian_16_bit_images_are_grey_and_rescaled(tmp_path):
    values = np.random.default_rng(1).integers(0, 65536, (8, 8)).astype(">u2")
    for folder in ("train", "test"):
        path = tmp_path / folder / "good" / "a.tif"
        path.parent.mkdir(parents=True)
        Image.fromarray(values).save(path)
    assert Image.open(tmp_path / "train" / "good" / "a.tif").mode in ("I;16B", "I;16")
    data = read_image_folder(tmp_path)
    assert data.X_train.shape == (1, 1, 8, 8)
    np.testing.assert_allclose(data.X_train[0, 0], values / 65535.0, atol=1e-6)


def test_grey_images_with_alpha_stay_grey(tmp_path):
    grey_alpha = np.random.default_rng(0).integers(0, 255, (8, 8, 2)).astype(np.uint8)
    _save(tmp_path / "train" / "good" / "a.png", grey_alpha, mode="LA")
    _save(tmp_path / "test" / "good" / "b.png", grey_alpha, mode="LA")
    data = read_image_folder(tmp_path)
    assert data.X_train.shape == (1, 1, 8, 8)
    np.testing.assert_allclose(data.X_train[0, 0], grey_alpha[..., 0] / 255, atol=1e-6)


def test_a_mask_of_another_size_than_its_image_is_refused(folder):
    _save(folder / "ground_truth" / "scratch" / "000_mask.png", np.zeros((8, 32)))
    with pytest.raises(ValueError, match=r"000_mask.png is 32×8 pixels but its image is 20×20"):
        read_image_folder(folder)


def test_masks_missing_for_some_defect_images_are_reported(folder):
    # the stain has no mask, and a folder named otherwise does not match "scratch"
    with pytest.warns(UserWarning, match=r"masks for only part of the defect images \('stain' 0 of 1\)"):
        read_image_folder(folder)
    (folder / "ground_truth" / "scratch").rename(folder / "ground_truth" / "scratches")
    with pytest.warns(UserWarning, match=r"'scratch' 0 of 1; 'stain' 0 of 1.*exact name"):
        data = read_image_folder(folder)
    assert not data.has_mask.any()


@pytest.mark.parametrize("size", ["16", 8.7, True, (8,), (8, 0), (8, 2.5)])
def test_a_bad_image_size_is_named(folder, size):
    with pytest.raises(ValueError, match="image_size must be a positive integer or a \\(height, width\\) pair"):
        read_image_folder(folder, image_size=size)


def test_numpy_integers_are_image_sizes(folder):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert read_image_folder(folder, image_size=np.int64(8)).X_train.shape == (4, 1, 8, 8)
        assert read_image_folder(folder, image_size=(np.int32(6), 10)).X_test.shape == (4, 1, 6, 10)
