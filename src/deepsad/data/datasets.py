"""The paper's benchmark datasets by name, read from the data root (downloaded when missing).

Images come with their official train/test split and class labels 0-9, as uint8
``(n, channels, height, width)``; scale them with ``ImageScaler``. ODDS sets come whole, as
``X`` float64 and ``y`` (1 = outlier); split them with ``odds_split``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepsad.data.downloads import PathLike, ensure_file
from deepsad.data.readers import read_cifar10, read_idx_images, read_mat

__all__ = ["DATASETS", "IMAGE_DATASETS", "ODDS_DATASETS", "ImageDataset", "OddsDataset", "load_dataset"]

IMAGE_DATASETS = ("mnist", "fashion-mnist", "cifar10")
ODDS_DATASETS = ("arrhythmia", "cardio", "satellite", "satimage-2", "shuttle", "thyroid")
DATASETS = IMAGE_DATASETS + ODDS_DATASETS

_FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """An image benchmark with its official split: uint8 images, int64 class labels.

    Example
    -------
    >>> data = load_dataset("mnist")  # doctest: +SKIP
    >>> data.X_train.shape, data.classes[:3]  # doctest: +SKIP
    ((60000, 1, 28, 28), ('0', '1', '2'))
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class OddsDataset:
    """An ODDS outlier-detection benchmark: ``X`` float64 ``(n, d)``, ``y`` int64, 1 = outlier.

    Example
    -------
    >>> data = load_dataset("thyroid")  # doctest: +SKIP
    >>> data.X.shape, int(data.y.sum())  # doctest: +SKIP
    ((3772, 6), 93)
    """

    name: str
    X: np.ndarray
    y: np.ndarray


def _idx_split(
    root: PathLike | None, dataset: str, split: str, download: bool
) -> tuple[np.ndarray, np.ndarray]:
    images = ensure_file(root, f"{dataset}/{split}-images-idx3-ubyte.gz", download=download)
    labels = ensure_file(root, f"{dataset}/{split}-labels-idx1-ubyte.gz", download=download)
    return read_idx_images(images, labels)


def load_dataset(
    name: str, root: PathLike | None = None, download: bool = True
) -> ImageDataset | OddsDataset:
    """Load a benchmark by name (one of :data:`DATASETS`) from ``root`` (see ``data_root``).

    Missing files are downloaded and verified when ``download`` is true; otherwise a missing
    file raises ``FileNotFoundError`` naming where to put it.

    Example
    -------
    >>> cifar = load_dataset("cifar10", root="~/data")  # doctest: +SKIP
    >>> cifar.X_test.shape, cifar.classes[0]  # doctest: +SKIP
    ((10000, 3, 32, 32), 'airplane')
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {list(DATASETS)}; got {name!r}")
    if name in ODDS_DATASETS:
        X, y = read_mat(ensure_file(root, f"odds/{name}.mat", download=download))
        return OddsDataset(name, X, y)
    if name == "cifar10":
        X_train, y_train, X_test, y_test, classes = read_cifar10(
            ensure_file(root, "cifar10/cifar-10-python.tar.gz", download=download)
        )
        return ImageDataset(name, X_train, y_train, X_test, y_test, classes)
    X_train, y_train = _idx_split(root, name, "train", download)
    X_test, y_test = _idx_split(root, name, "t10k", download)
    classes = _FASHION_MNIST_CLASSES if name == "fashion-mnist" else tuple(str(digit) for digit in range(10))
    return ImageDataset(name, X_train, y_train, X_test, y_test, classes)
