"""The benchmark data sets, one descriptor each: the official files (under the data root, with
mirrors and checksums), how to read them, the classes, how the data are split into training
and test data, and how they are preprocessed.

Describing a data set does nothing; ``load_dataset`` reads it, downloading missing files only
when asked to. Image data sets come with their official split, as uint8 ``(n, channels,
height, width)`` arrays with int64 class labels; tables come whole (``X`` float64, ``y`` int64)
and are split per seed (``deepsad.data.splits.split``).

Layout under the data root (that of torchvision and of the official archives)::

    MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    CIFAR10/cifar-10-python.tar.gz
    ODDS/<name>.mat
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepsad.data.downloads import PathLike, RemoteFile, ensure_file
from deepsad.data.readers import read_cifar10, read_idx_images, read_mat

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "ImageDataset",
    "TableDataset",
    "dataset_info",
    "load_dataset",
]

PIXELS = "pixels"
"""Preprocessing of images: pixel values divided by their maximum (the Deep SAD paper's [0, 1])."""
STANDARDIZE = "standardize"
"""Preprocessing of tables: standardized, then min-max scaled to [0, 1], with training statistics."""


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A benchmark with its official split: uint8 images, int64 class labels.

    Example
    -------
    >>> data = load_dataset("mnist", root="~/data")  # doctest: +SKIP
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
class TableDataset:
    """A benchmark without an official split: ``X`` float64 ``(n, d)`` and ``y`` int64 class
    labels (for the outlier benchmarks, 1 = outlier).

    Example
    -------
    >>> data = load_dataset("digits")
    >>> data.X.shape, data.classes[:3]
    ((1797, 64), ('0', '1', '2'))
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]


@dataclass(frozen=True)
class DatasetInfo:
    """Everything deepsad knows about one data set.

    ``one_vs_rest``: each class in turn is normal and the others are anomalies; otherwise
    class 0 is normal and class 1 anomalous (the outlier benchmarks). ``official_split``:
    the files hold the training and test split; otherwise a stratified 60:40 split is drawn
    per seed, by ``split_draw``: "generator" (the first draw of the experiment's random
    generator, which then draws the scenario) or "seed" (from the seed itself, the generator
    left for the scenario); these are how the splits have always been drawn, so a seed keeps
    giving the same split. ``preprocessing`` is ``PIXELS`` (divided by ``pixel_max``) or ``STANDARDIZE``.
    ``image_shape`` is how one sample is drawn, None when it is not an image.
    """

    name: str
    description: str
    files: Mapping[str, RemoteFile]
    read: Callable[[str, Mapping[str, Path]], ImageDataset | TableDataset]
    classes: tuple[str, ...]
    one_vs_rest: bool
    official_split: bool
    preprocessing: str
    pixel_max: float | None = None
    image_shape: tuple[int, ...] | None = None
    split_draw: str = "generator"


def _read_idx(name: str, paths: Mapping[str, Path]) -> ImageDataset:
    X_train, y_train = read_idx_images(paths["train_images"], paths["train_labels"])
    X_test, y_test = read_idx_images(paths["test_images"], paths["test_labels"])
    return ImageDataset(name, X_train, y_train, X_test, y_test, DATASETS[name].classes)


def _read_cifar10(name: str, paths: Mapping[str, Path]) -> ImageDataset:
    X_train, y_train, X_test, y_test, classes = read_cifar10(paths["archive"])
    return ImageDataset(name, X_train, y_train, X_test, y_test, classes)


def _read_odds(name: str, paths: Mapping[str, Path]) -> TableDataset:
    X, y = read_mat(paths["data"])
    return TableDataset(name, X, y, DATASETS[name].classes)


def _read_digits(name: str, paths: Mapping[str, Path]) -> TableDataset:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return TableDataset(name, digits.data.astype(np.float64), digits.target.astype(np.int64), DATASETS[name].classes)


def _idx_files(folder: str, base_urls: tuple[str, ...], hashes: dict[str, tuple[str, str]]) -> dict[str, RemoteFile]:
    """The four idx files of an MNIST-style data set; ``hashes`` maps a role to (sha256, md5)."""
    names = {
        "train_images": "train-images-idx3-ubyte.gz",
        "train_labels": "train-labels-idx1-ubyte.gz",
        "test_images": "t10k-images-idx3-ubyte.gz",
        "test_labels": "t10k-labels-idx1-ubyte.gz",
    }
    return {
        role: RemoteFile(f"{folder}/raw/{name}", tuple(base + name for base in base_urls), *hashes[role])
        for role, name in names.items()
    }


DIGITS = tuple(str(digit) for digit in range(10))

# ODDS (odds.cs.stonybrook.edu) links to Dropbox files whose addresses change. pyod ships the
# ODDS downloads byte for byte. A commit known to hold the file comes first where one is known
# (thyroid.mat is gone from pyod's master); master is the fallback. The checksum, not the URL,
# vouches for the content.
_PYOD = "https://raw.githubusercontent.com/yzhao062/pyod"


def _odds(name: str, description: str, sha256: str, commit: str | None = None) -> DatasetInfo:
    refs = ((commit,) if commit else ()) + ("master",)
    urls = tuple(f"{_PYOD}/{ref}/notebooks/data/{name}.mat" for ref in refs)
    return DatasetInfo(
        name=name,
        description=description,
        files={"data": RemoteFile(f"ODDS/{name}.mat", urls, sha256=sha256)},
        read=_read_odds,
        classes=("inlier", "outlier"),
        one_vs_rest=False,
        official_split=False,
        preprocessing=STANDARDIZE,
    )


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="digits",
            description="scikit-learn's bundled 8×8 handwritten digits (1797 samples, no download)",
            files={},
            read=_read_digits,
            classes=DIGITS,
            one_vs_rest=True,
            official_split=False,
            preprocessing=STANDARDIZE,
            pixel_max=16.0,
            image_shape=(1, 8, 8),
            split_draw="seed",
        ),
        DatasetInfo(
            name="mnist",
            description="MNIST handwritten digits, 28×28 grey",
            files=_idx_files(
                "MNIST",
                # The mirror torchvision uses first; the original site is often unreachable.
                ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
                {
                    "train_images": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                     "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                    "train_labels": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                                     "d53e105ee54ea40749a09fcbcd1e9432"),
                    "test_images": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                                    "9fb629c4189551a2d022fa330f9573f3"),
                    "test_labels": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                                    "ec29112dd5afa0611ce80d1b7f02629c"),
                },
            ),
            read=_read_idx,
            classes=DIGITS,
            one_vs_rest=True,
            official_split=True,
            preprocessing=PIXELS,
            pixel_max=255.0,
            image_shape=(1, 28, 28),
        ),
        DatasetInfo(
            name="fashion-mnist",
            description="Fashion-MNIST clothing images, 28×28 grey",
            files=_idx_files(
                "FashionMNIST",
                ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
                {
                    "train_images": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                                     "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                    "train_labels": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                                     "25c81989df183df01b3e8a0aad5dffbe"),
                    "test_images": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                                    "bef4ecab320f06d8554ea6380940ec79"),
                    "test_labels": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                                    "bb300cfdad3c16e7a12a480ee83cd310"),
                },
            ),
            read=_read_idx,
            classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                     "Ankle boot"),
            one_vs_rest=True,
            official_split=True,
            preprocessing=PIXELS,
            pixel_max=255.0,
            image_shape=(1, 28, 28),
        ),
        DatasetInfo(
            name="cifar10",
            description="CIFAR-10 colour images, 32×32",
            files={
                # The archive publishes only an md5.
                "archive": RemoteFile(
                    "CIFAR10/cifar-10-python.tar.gz",
                    ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                    md5="c58f30108f718f92721af3b95e74349a",
                )
            },
            read=_read_cifar10,
            classes=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
            one_vs_rest=True,
            official_split=True,
            preprocessing=PIXELS,
            pixel_max=255.0,
            image_shape=(3, 32, 32),
        ),
        _odds("arrhythmia", "ODDS arrhythmia (274 features)",
              "e4d47e499591ae31e5d7f0cd983367092353eac240f48e14c9b36457edb3460d"),
        _odds("cardio", "ODDS cardio (21 features)",
              "5e568b6a73711012c481fa6cc984ab9c68e9a4fa44d6aeb3b43efa381c3f695b"),
        _odds("satellite", "ODDS satellite (36 features)",
              "6feac3112b9c14e1c3e60afc437f2f3d29dc1000119c9f950c628078778d6aa0",
              "b247c08568cbc8147f3fe873a925c4deff89b8b9"),
        _odds("satimage-2", "ODDS satimage-2 (36 features)",
              "95c37a07cea2cb201f6900d14f521510e10b6b2f0074c06ac46d3157440ec67b",
              "ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2"),
        _odds("shuttle", "ODDS shuttle (9 features)",
              "b6e396c92354d5dcf5036901e36dc58e2913f2d1a5e138c35a2bedf9c69db899",
              "b247c08568cbc8147f3fe873a925c4deff89b8b9"),
        _odds("thyroid", "ODDS thyroid (6 features)",
              "49155d7861b977e90808faf68343ff67a67f63090c2744d514dbb67ac68e7e33",
              "ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2"),
    )
}
"""The data sets by name."""


def dataset_info(name: str) -> DatasetInfo:
    """The descriptor of a data set, or a ValueError listing the known names.

    Example
    -------
    >>> dataset_info("cifar10").image_shape
    (3, 32, 32)
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {list(DATASETS)}; got {name!r}")
    return DATASETS[name]


def load_dataset(name: str, root: PathLike | None = None, download: bool = False) -> ImageDataset | TableDataset:
    """Read a data set by name from ``root`` (see ``deepsad.data.downloads.data_root``).

    A missing file raises ``FileNotFoundError`` naming where to put it, or, with
    ``download=True``, is downloaded from its official source and verified.

    Example
    -------
    >>> cifar = load_dataset("cifar10", root="~/data", download=True)  # doctest: +SKIP
    >>> cifar.X_test.shape, cifar.classes[0]  # doctest: +SKIP
    ((10000, 3, 32, 32), 'airplane')
    """
    info = dataset_info(name)
    paths = {role: ensure_file(root, remote, download=download) for role, remote in info.files.items()}
    return info.read(name, paths)
