"""Readers for the data formats the library meets, using NumPy (and SciPy/pandas/h5py) only.

Official benchmark formats: MNIST/Fashion-MNIST idx files, the CIFAR-10 python tarball, ODDS
``.mat`` files and ADBench ``.npz`` files. User formats: CSV/Parquet tables with a label column,
``.npy``/``.npz`` arrays with a separate label file.

Every reader raises :class:`DataFileError` (a ``ValueError``) naming the file when the file
exists but cannot be parsed, so a bad file fails here and not somewhere later in training; a
missing file raises ``FileNotFoundError``.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import numpy as np

PathLike = str | os.PathLike

__all__ = [
    "DataFileError",
    "read_arrays",
    "read_cifar10",
    "read_idx",
    "read_idx_images",
    "read_mat",
    "read_npz",
    "read_table",
    "read_user_data",
]


class DataFileError(ValueError):
    """A data file exists but cannot be parsed; the message names the file."""


@contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn any parsing failure inside the block into a DataFileError naming ``path``."""
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path} (expected {what})")
    try:
        yield
    except (DataFileError, ImportError):
        # Already names the file, or a missing optional dependency the user must install.
        raise
    except Exception as exc:  # the parsers below raise many unrelated types on bad input
        raise DataFileError(f"cannot read {path} as {what}: {type(exc).__name__}: {exc}") from exc


def _fail(path: Path, message: str) -> DataFileError:
    return DataFileError(f"{path}: {message}")


# --- MNIST / Fashion-MNIST idx -------------------------------------------------------------------

# idx type codes (http://yann.lecun.com/exdb/mnist/); multi-byte values are big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: PathLike) -> np.ndarray:
    """Read an idx file (gzip-compressed or raw) into a native-endian array.

    Example
    -------
    >>> images = read_idx("MNIST/raw/train-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    with _reading(path, "an idx file"):
        content = path.read_bytes()
        # Decide by content, not by name: downloads are sometimes decompressed but not renamed.
        if content[:2] == _GZIP_MAGIC:
            content = gzip.decompress(content)
        if len(content) < 4 or content[:2] != b"\x00\x00":
            raise _fail(path, "not an idx file (the first two bytes must be zero)")
        type_code, ndim = content[2], content[3]
        if type_code not in _IDX_DTYPES:
            raise _fail(path, f"unknown idx data type code 0x{type_code:02x}")
        if ndim == 0:
            raise _fail(path, "idx header declares zero dimensions")
        header_size = 4 + 4 * ndim
        if len(content) < header_size:
            raise _fail(path, f"truncated idx header ({len(content)} bytes, need {header_size})")
        shape = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
        dtype = _IDX_DTYPES[type_code]
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        found = len(content) - header_size
        if found != expected:
            raise _fail(path, f"idx header declares shape {shape} ({expected} data bytes), found {found}")
        data = np.frombuffer(content, dtype, offset=header_size).reshape(shape)
        return data.astype(dtype.newbyteorder("="))


def read_idx_images(images_path: PathLike, labels_path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST-style pair of idx files: images as uint8 ``(n, 1, h, w)``, labels as int64.

    Example
    -------
    >>> X, y = read_idx_images("MNIST/raw/t10k-images-idx3-ubyte.gz",
    ...                        "MNIST/raw/t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
    >>> X.shape, y.shape  # doctest: +SKIP
    ((10000, 1, 28, 28), (10000,))
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise _fail(Path(images_path), f"expected uint8 images (n, h, w), got {images.dtype} {images.shape}")
    if labels.ndim != 1:
        raise _fail(Path(labels_path), f"expected a 1-d label vector, got shape {labels.shape}")
    if len(labels) != len(images):
        raise _fail(Path(labels_path), f"{len(labels)} labels for {len(images)} images in {images_path}")
    return images[:, None], labels.astype(np.int64)


# --- CIFAR-10 python batches ---------------------------------------------------------------------


try:
    from numpy._core.multiarray import _reconstruct as _numpy_reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct as _numpy_reconstruct


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1");
    # only that codec is accepted so no other codec machinery is reachable from a file.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds NumPy arrays and plain containers and nothing else.

    The CIFAR batches are pickles; an unrestricted ``pickle.load`` would run whatever callable
    a crafted file names. Only the names needed to rebuild an ndarray are resolved.
    """

    _ALLOWED = {
        # Files written with numpy < 2 (all official ones) name numpy.core; numpy 2 numpy._core.
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file") from None


def _load_pickle(content: bytes) -> object:
    # latin1 maps Python 2 ``str`` keys to ``str`` and lets numpy restore raw array bytes.
    return _ArrayUnpickler(io.BytesIO(content), encoding="latin1").load()


_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = "test_batch"
_CIFAR_META = "batches.meta"
_CIFAR_FOLDER = "cifar-10-batches-py"


def _cifar_batch(content: bytes, source: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _load_pickle(content)
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise _fail(source, "not a CIFAR-10 batch (expected a dict with 'data' and 'labels')")
    data, labels = batch["data"], np.asarray(batch["labels"])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise _fail(source, f"CIFAR-10 'data' must be uint8 (n, 3072), got {found}")
    if labels.shape != (len(data),) or not np.isin(labels, np.arange(10)).all():
        raise _fail(source, f"CIFAR-10 'labels' must be {len(data)} integers in 0..9")
    # Rows hold the red plane, then green, then blue, each a row-major 32x32 image.
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _cifar_members(path: Path) -> dict[str, tuple[bytes, Path]]:
    """The wanted batch files by name: their bytes and the path they were read from."""
    wanted = {*_CIFAR_TRAIN, _CIFAR_TEST, _CIFAR_META}
    found: dict[str, tuple[bytes, Path]] = {}
    if path.is_dir():
        folder = path / _CIFAR_FOLDER if (path / _CIFAR_FOLDER).is_dir() else path
        for name in wanted:
            if (folder / name).is_file():
                found[name] = ((folder / name).read_bytes(), folder / name)
        return found
    # Stream mode reads members in archive order: random access into a 170 MB gzip stream
    # would decompress it again for every backward seek. Nothing is extracted to disk.
    with tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            name = PurePosixPath(member.name).name
            if member.isfile() and name in wanted:
                found[name] = (archive.extractfile(member).read(), path / member.name)
    return found


def read_cifar10(path: PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read CIFAR-10 from ``cifar-10-python.tar.gz`` or its extracted ``cifar-10-batches-py``.

    Returns ``(X_train, y_train, X_test, y_test, class_names)`` with images as uint8
    ``(n, 3, 32, 32)`` and labels as int64 in 0..9. The archive is read in memory, never
    extracted, and its pickles are loaded with an unpickler that can only rebuild arrays.

    Example
    -------
    >>> X_train, y_train, X_test, y_test, names = read_cifar10("cifar-10-python.tar.gz")  # doctest: +SKIP
    >>> X_train.shape, names[0]  # doctest: +SKIP
    ((50000, 3, 32, 32), 'airplane')
    """
    path = Path(path)
    with _reading(path, "CIFAR-10 python batches"):
        members = _cifar_members(path)
        missing = [name for name in (*_CIFAR_TRAIN, _CIFAR_TEST, _CIFAR_META) if name not in members]
        if missing:
            raise _fail(path, f"missing CIFAR-10 batch files: {', '.join(missing)}")
        train = [_cifar_batch(*members[name]) for name in _CIFAR_TRAIN]
        X_test, y_test = _cifar_batch(*members[_CIFAR_TEST])
        meta = _load_pickle(members[_CIFAR_META][0])
        names = meta.get("label_names") if isinstance(meta, dict) else None
        if not isinstance(names, list) or len(names) != 10:
            raise _fail(members[_CIFAR_META][1], "expected 'label_names' with 10 class names")
        X_train = np.concatenate([X for X, _ in train])
        y_train = np.concatenate([y for _, y in train])
        return X_train, y_train, X_test, y_test, tuple(str(name) for name in names)


# --- Outlier-detection benchmarks: ODDS .mat, ADBench .npz ---------------------------------------


def _outlier_data(X: object, y: object, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Validate and cast a benchmark's ``X`` (float64, 2-d) and ``y`` (int64 0/1, 1 = outlier)."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise _fail(path, f"expected a numeric 2-d 'X', got {X.dtype} with shape {X.shape}")
    y = y.ravel()
    if len(y) != len(X):
        raise _fail(path, f"'y' has {len(y)} entries for {len(X)} rows of 'X'")
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
        raise _fail(path, "'y' must hold 0 (inlier) or 1 (outlier) only")
    # ODDS stores some X as uint8/int16 (satellite, shuttle); the models want floats.
    return X.astype(np.float64), y.astype(np.int64)


# MAT v7.3 files are HDF5 files behind a 512-byte MATLAB header; HDF5 looks at these offsets.
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_HDF5_OFFSETS = (0, 512, 1024, 2048)


def _is_hdf5(path: Path) -> bool:
    with path.open("rb") as file:
        head = file.read(_HDF5_OFFSETS[-1] + len(_HDF5_SIGNATURE))
    return any(head[offset : offset + len(_HDF5_SIGNATURE)] == _HDF5_SIGNATURE for offset in _HDF5_OFFSETS)


def _read_mat_hdf5(path: Path, keys: tuple[str, ...]) -> list[np.ndarray]:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(f"{path} is a MATLAB v7.3 (HDF5) file; reading it needs h5py") from exc
    arrays = []
    with h5py.File(path, "r") as file:
        for key in keys:
            if not isinstance(file.get(key), h5py.Dataset):
                raise _fail(path, f"no array named {key!r}; found {sorted(file.keys())}")
            # MATLAB is column-major and HDF5 row-major, so v7.3 files hold the transpose.
            arrays.append(np.asarray(file[key][()]).T)
    return arrays


def read_mat(path: PathLike, x_key: str = "X", y_key: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Read an ODDS-style ``.mat`` file (MATLAB v5 or v7.3) into ``X`` float64 and ``y`` int64 0/1.

    Example
    -------
    >>> X, y = read_mat("ODDS/thyroid.mat")  # doctest: +SKIP
    >>> X.shape, int(y.sum())  # doctest: +SKIP
    ((3772, 6), 93)
    """
    path = Path(path)
    with _reading(path, "a MATLAB .mat file"):
        if _is_hdf5(path):
            X, y = _read_mat_hdf5(path, (x_key, y_key))
        else:
            import scipy.io
            import scipy.sparse

            contents = scipy.io.loadmat(path)
            missing = [key for key in (x_key, y_key) if key not in contents]
            if missing:
                found = sorted(key for key in contents if not key.startswith("__"))
                raise _fail(path, f"no array named {missing[0]!r}; found {found}")
            X, y = (contents[key] for key in (x_key, y_key))
            X = X.toarray() if scipy.sparse.issparse(X) else X
        return _outlier_data(X, y, path)


def read_npz(path: PathLike, x_key: str = "X", y_key: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Read an ADBench-style ``.npz`` with arrays ``X`` and ``y`` (1 = outlier); never unpickles.

    Example
    -------
    >>> X, y = read_npz("6_cardio.npz")  # doctest: +SKIP
    """
    path = Path(path)
    with _reading(path, "an .npz archive"):
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise _fail(path, "not an .npz archive")
            missing = [key for key in (x_key, y_key) if key not in archive.files]
            if missing:
                raise _fail(path, f"no array named {missing[0]!r}; found {sorted(archive.files)}")
            X, y = archive[x_key], archive[y_key]
        return _outlier_data(X, y, path)


# --- User data -----------------------------------------------------------------------------------

_COMPRESSION_SUFFIXES = {".gz", ".bz2", ".zip", ".xz", ".zst"}
_TABLE_SUFFIXES = {".csv", ".tsv", ".parquet", ".pq"}
_ARRAY_SUFFIXES = {".npy", ".npz"}


def _format_suffix(path: Path) -> str:
    """The suffix that names the format, looking through a compression suffix (data.csv.gz)."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def read_table(
    path: PathLike, label_column: str | None = None, *, as_frame: bool = False
):
    """Read a CSV/TSV (optionally compressed) or Parquet table: features as float64, labels as-is.

    Every column other than ``label_column`` is a feature and must be numeric. The labels are
    returned unchanged (``None`` without ``label_column``); mapping them to the library's
    label convention is the caller's choice. With ``as_frame=True`` the features come as a
    pandas DataFrame, so an estimator fitted on them records the column names and refuses a
    table whose columns differ.

    Example
    -------
    >>> X, y = read_table("sensors.csv", label_column="label")  # doctest: +SKIP
    """
    path = Path(path)
    suffix = _format_suffix(path)
    if suffix not in _TABLE_SUFFIXES:
        raise ValueError(f"path must end in one of {sorted(_TABLE_SUFFIXES)}; got {path}")
    with _reading(path, "a table"):
        import pandas as pd

        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        labels = None
        if label_column is not None:
            if label_column not in frame.columns:
                raise _fail(path, f"no label column {label_column!r}; columns are {list(frame.columns)}")
            labels = frame.pop(label_column).to_numpy()
        if frame.shape[0] == 0:
            raise _fail(path, f"no data rows (only a header with the columns {list(frame.columns)[:10]})")
        if frame.shape[1] == 0:
            raise _fail(path, "no feature columns besides the label column")
        non_numeric = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if non_numeric:
            raise _fail(path, f"feature columns must be numeric; not numeric: {non_numeric[:10]}")
        features = frame.astype(np.float64)
        return (features if as_frame else features.to_numpy()), labels


def _read_single_array(path: Path) -> np.ndarray:
    if _format_suffix(path) in (".csv", ".txt"):
        return np.loadtxt(path, dtype=np.int64, delimiter=",", ndmin=1)
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        if len(loaded.files) != 1:
            raise _fail(path, f"expected exactly one array, found {sorted(loaded.files)}")
        return loaded[loaded.files[0]]


def read_arrays(
    data_path: PathLike, labels_path: PathLike | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read features from ``.npy`` (or a one-array ``.npz``) and labels from a separate file.

    The features keep their dtype (uint8 images stay uint8) and need samples along the first
    axis and at least two dimensions. The labels file (``.npy``, one-array ``.npz``, or a text
    file with one integer per line) must hold one label per sample.

    Example
    -------
    >>> X, y = read_arrays("images.npy", labels_path="labels.npy")  # doctest: +SKIP
    """
    data_path = Path(data_path)
    with _reading(data_path, "a NumPy array file"):
        X = _read_single_array(data_path)
        if X.ndim < 2 or X.dtype.kind not in "biuf":
            expected = "a numeric array (n_samples, ...) with ndim >= 2"
            raise _fail(data_path, f"expected {expected}, got {X.dtype} {X.shape}")
    if labels_path is None:
        return X, None
    labels_path = Path(labels_path)
    with _reading(labels_path, "a label file"):
        y = _read_single_array(labels_path)
        if y.ndim == 2 and 1 in y.shape:
            y = y.ravel()
        if y.shape != (len(X),):
            expected = f"{len(X)} labels (one per row of {data_path})"
            raise _fail(labels_path, f"expected {expected}, got shape {y.shape}")
    return X, y


def read_user_data(
    path: PathLike, *, label_column: str | None = None, labels_path: PathLike | None = None,
    as_frame: bool = False,
):
    """Read user data by file type: tables take ``label_column``, arrays take ``labels_path``.

    ``.csv``/``.tsv`` (optionally compressed) and ``.parquet`` go to :func:`read_table`
    (``as_frame`` applies to them), ``.npy``/``.npz`` to :func:`read_arrays`, ``.mat`` to
    :func:`read_mat`.

    Example
    -------
    >>> X, y = read_user_data("events.parquet", label_column="label")  # doctest: +SKIP
    """
    path = Path(path)
    suffix = _format_suffix(path)
    if suffix in _TABLE_SUFFIXES:
        if labels_path is not None:
            raise ValueError("labels_path (--labels) applies to .npy/.npz files; for a table name its label "
                             "column with label_column (--label-column)")
        return read_table(path, label_column, as_frame=as_frame)
    if suffix in _ARRAY_SUFFIXES:
        if label_column is not None:
            raise ValueError("label_column (--label-column) applies to tables; for .npy/.npz give the labels "
                             "in a file of their own with labels_path (--labels)")
        return read_arrays(path, labels_path)
    if suffix == ".mat":
        if label_column is not None or labels_path is not None:
            raise ValueError("a .mat file holds its labels ('y'); pass neither label_column nor labels_path")
        return read_mat(path)
    known = sorted(_TABLE_SUFFIXES | _ARRAY_SUFFIXES | {".mat"})
    raise ValueError(f"path must end in one of {known}; got {path}")
