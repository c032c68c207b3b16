"""load_dataset: composition on generated files, and the real benchmark files where present."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from deepsad.data.datasets import DATASETS, ImageDataset, TableDataset, dataset_info, load_dataset
from deepsad.data.downloads import ChecksumWarning, DownloadError


def _write_fake_idx_dataset(root, folder, write_idx, n_train=20, n_test=10):
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(root / folder / "raw" / f"{split}-images-idx3-ubyte.gz", images)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(root / folder / "raw" / f"{split}-labels-idx1-ubyte.gz", labels)


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_idx_datasets_from_root(tmp_path, write_idx, network, name, folder):
    _write_fake_idx_dataset(tmp_path, folder, write_idx)
    with pytest.warns(ChecksumWarning):  # generated files are not the official ones
        data = load_dataset(name, root=tmp_path)
    assert isinstance(data, ImageDataset) and data.name == name
    assert data.X_train.shape == (20, 1, 28, 28) and data.X_test.shape == (10, 1, 28, 28)
    assert data.y_train.tolist() == [i % 10 for i in range(20)]
    assert len(data.classes) == 10
    assert network.requested == []


def test_cifar_from_root(tmp_path, make_cifar, network):
    expected = make_cifar(tmp_path / "CIFAR10" / "cifar-10-python.tar.gz")
    with pytest.warns(ChecksumWarning):
        data = load_dataset("cifar10", root=tmp_path)
    np.testing.assert_array_equal(data.X_test, expected["X_test"])
    assert data.classes[-1] == "truck"


def test_odds_from_root(tmp_path, network):
    (tmp_path / "ODDS").mkdir()
    contents = {"X": np.ones((5, 9), np.int16), "y": np.array([[0], [1], [0], [0], [0]], np.uint8)}
    scipy.io.savemat(tmp_path / "ODDS" / "shuttle.mat", contents)
    with pytest.warns(ChecksumWarning):
        data = load_dataset("shuttle", root=tmp_path)
    assert isinstance(data, TableDataset)
    assert data.X.dtype == np.float64 and data.y.tolist() == [0, 1, 0, 0, 0]


def test_missing_files_are_downloaded_only_when_asked(tmp_path, network):
    with pytest.raises(FileNotFoundError, match="thyroid.mat.*download=True"):
        load_dataset("thyroid", root=tmp_path)
    assert network.requested == []
    with pytest.raises(DownloadError, match="raw.githubusercontent.com/yzhao062/pyod"):
        load_dataset("thyroid", root=tmp_path, download=True)


def test_digits_are_bundled(tmp_path, network):
    data = load_dataset("digits", root=tmp_path)
    assert isinstance(data, TableDataset) and data.X.shape == (1797, 64)
    assert data.classes == tuple("0123456789") and network.requested == []
    assert list(tmp_path.iterdir()) == []


def test_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="'mnsit'"):
        load_dataset("mnsit", root=tmp_path)
    with pytest.raises(ValueError, match="dataset must be one of"):
        dataset_info("imagenet")


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_descriptor_is_complete(name):
    info = dataset_info(name)
    assert info.name == name and info.description
    for remote in info.files.values():
        assert remote.checksum and remote.urls
    if info.one_vs_rest:
        assert len(info.classes) >= 2
    else:
        assert info.classes == ("inlier", "outlier") and not info.official_split
    if info.preprocessing == "pixels":
        assert info.pixel_max and info.image_shape
    assert (info.image_shape is None) == (info.pixel_max is None)


# --- the real files ------------------------------------------------------------------------------

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.data
def test_real_mnist(shared_data, network):
    root = shared_data("MNIST/raw")
    data = load_dataset("mnist", root=root, download=False)
    assert data.X_train.shape == (60000, 1, 28, 28) and data.X_train.dtype == np.uint8
    assert data.X_test.shape == (10000, 1, 28, 28)
    assert np.bincount(data.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(data.y_test).tolist() == MNIST_TEST_COUNTS


@pytest.mark.data
def test_real_fashion_mnist(shared_data, network):
    data = load_dataset("fashion-mnist", root=shared_data("FashionMNIST/raw"), download=False)
    assert data.X_train.shape == (60000, 1, 28, 28)
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert data.classes[0] == "T-shirt/top" and data.classes[9] == "Ankle boot"


@pytest.mark.data
def test_real_cifar10(shared_data, network):
    root = shared_data("CIFAR10/cifar-10-python.tar.gz")
    with pytest.warns(ChecksumWarning, match="c58f30108f718f92721af3b95e74349a"):
        data = load_dataset("cifar10", root=root, download=False)
    assert data.X_train.shape == (50000, 3, 32, 32) and data.X_test.shape == (10000, 3, 32, 32)
    assert np.bincount(data.y_train).tolist() == [5000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert data.classes == (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"
    )  # fmt: skip


ODDS_SHAPES = {
    "arrhythmia": ((452, 274), 66),
    "cardio": ((1831, 21), 176),
    "satellite": ((6435, 36), 2036),
    "satimage-2": ((5803, 36), 71),
    "shuttle": ((49097, 9), 3511),
    "thyroid": ((3772, 6), 93),
}


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(ODDS_SHAPES))
def test_real_odds(shared_data, network, name):
    data = load_dataset(name, root=shared_data(f"ODDS/{name}.mat"), download=False)
    shape, outliers = ODDS_SHAPES[name]
    assert data.X.shape == shape and data.X.dtype == np.float64
    assert data.y.dtype == np.int64 and int(data.y.sum()) == outliers
    assert set(np.unique(data.y)) == {0, 1}


def test_every_dataset_is_covered():
    assert set(DATASETS) == {"digits", "mnist", "fashion-mnist", "cifar10", *ODDS_SHAPES}
