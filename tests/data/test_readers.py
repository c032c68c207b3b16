"""Readers: every format round-trips from small generated files; bad files fail naming the file."""

from __future__ import annotations

import gzip
import os
import pickle
import tarfile
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.io

from deepsad.data.readers import (
    DataFileError,
    read_arrays,
    read_cifar10,
    read_idx,
    read_idx_images,
    read_mat,
    read_npz,
    read_table,
    read_user_data,
)

# --- idx -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", ["u1", "i2", "i4", "f4", "f8"])
def test_idx_round_trip(tmp_path, write_idx, compress, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = write_idx(tmp_path / "a-idx3-ubyte", array, compress=compress)
    read = read_idx(path)
    assert read.dtype == np.dtype(dtype) and read.dtype.isnative
    np.testing.assert_array_equal(read, array)


def test_idx_images_pair(tmp_path, write_idx):
    images = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.arange(7, dtype=np.uint8) % 10
    X, y = read_idx_images(write_idx(tmp_path / "img.gz", images), write_idx(tmp_path / "lab.gz", labels))
    assert X.shape == (7, 1, 28, 28) and X.dtype == np.uint8
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X[:, 0], images)
    np.testing.assert_array_equal(y, labels)


def test_idx_images_label_count_mismatch(tmp_path, write_idx):
    images = write_idx(tmp_path / "img.gz", np.zeros((5, 4, 4), np.uint8))
    labels = write_idx(tmp_path / "lab.gz", np.zeros(4, np.uint8))
    with pytest.raises(DataFileError, match="lab.gz"):
        read_idx_images(images, labels)


def _idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(_idx_bytes(np.zeros((3, 4), np.uint8))[:-1], id="truncated-data"),
        pytest.param(_idx_bytes(np.zeros((3, 4), np.uint8)) + b"\0", id="trailing-data"),
        pytest.param(b"\x01\x02" + _idx_bytes(np.zeros(3, np.uint8))[2:], id="bad-magic"),
        pytest.param(b"\0\0\x07\x01" + b"\0\0\0\x01" + b"\0", id="bad-type-code"),
        pytest.param(b"\0\0\x08\x03\0\0\0\x01", id="truncated-header"),
        pytest.param(b"\0\0\x08\x00", id="zero-dims"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x1f\x8b" + b"not really gzip", id="bad-gzip"),
        pytest.param(gzip.compress(_idx_bytes(np.zeros((30, 30), np.uint8)))[:-20], id="truncated-gzip"),
    ],
)
def test_idx_malformed_names_file(tmp_path, content):
    path = tmp_path / "broken-idx1-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match="broken-idx1-ubyte.gz"):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.gz"):
        read_idx(tmp_path / "nothing.gz")


# --- CIFAR-10 ------------------------------------------------------------------------------------


def _assert_cifar(result, expected):
    X_train, y_train, X_test, y_test, names = result
    assert X_train.shape == (60, 3, 32, 32) and X_train.dtype == np.uint8
    assert y_train.dtype == np.int64 and names[0] == "airplane" and len(names) == 10
    for key, value in zip(("X_train", "y_train", "X_test", "y_test"), (X_train, y_train, X_test, y_test)):
        np.testing.assert_array_equal(value, expected[key])


def test_cifar_from_tarball(cifar_archive):
    path, expected = cifar_archive
    with warnings.catch_warnings():
        # Python-2-era names (numpy.core) must not trigger numpy's deprecation shim.
        warnings.simplefilter("error")
        _assert_cifar(read_cifar10(path), expected)


def test_cifar_pixel_layout_is_channel_planes(tmp_path, make_cifar):
    expected = make_cifar(tmp_path / "c.tar.gz")
    X_train = read_cifar10(tmp_path / "c.tar.gz")[0]
    raw_row = expected["X_train"][0].reshape(3072)
    # The first 1024 values of a row are the red plane, row-major.
    np.testing.assert_array_equal(X_train[0, 0].ravel(), raw_row[:1024])
    np.testing.assert_array_equal(X_train[0, 2, 31], raw_row[2048 + 31 * 32 : 2048 + 32 * 32])


def test_cifar_from_python3_pickles(tmp_path, make_cifar):
    # Files re-saved by Python 3 carry bytes as _codecs.encode(..., "latin1") and numpy._core.
    expected = make_cifar(tmp_path / "c.tar.gz", legacy_names=False)
    _assert_cifar(read_cifar10(tmp_path / "c.tar.gz"), expected)


@pytest.mark.parametrize("subfolder", [True, False])
def test_cifar_from_extracted_folder(cifar_archive, tmp_path, subfolder):
    path, expected = cifar_archive
    with tarfile.open(path) as archive:
        archive.extractall(tmp_path / "extracted", filter="data")
    folder = tmp_path / "extracted"
    _assert_cifar(read_cifar10(folder if subfolder else folder / "cifar-10-batches-py"), expected)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_cifar_malicious_pickle_is_refused(tmp_path, make_cifar):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"data": _RunsCode(marker), "labels": []}, protocol=2)
    path = tmp_path / "cifar-10-python.tar.gz"
    make_cifar(path, replace={"data_batch_3": payload})
    with pytest.raises(DataFileError, match="refusing to load") as error:
        read_cifar10(path)
    assert "cifar-10-python.tar.gz" in str(error.value)
    assert not marker.exists()


def test_cifar_codecs_other_than_latin1_refused(tmp_path, make_cifar):
    payload = pickle.dumps({"data": b"x"}, protocol=2).replace(b"latin1", b"rot13_")
    path = tmp_path / "cifar-10-python.tar.gz"
    make_cifar(path, replace={"test_batch": payload})
    with pytest.raises(DataFileError, match=r"cifar-10-python.tar.gz.*refusing _codecs.encode"):
        read_cifar10(path)


@pytest.mark.parametrize(
    "replace, message",
    [
        ({"data_batch_1": pickle.dumps({"labels": [1]}, protocol=2)}, "not a CIFAR-10 batch"),
        ({"data_batch_1": pickle.dumps({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]})}, "3072"),
        ({"data_batch_1": pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]})}, "0..9"),
        ({"data_batch_1": b"\x80\x02garbage"}, "cifar-10-python.tar.gz"),
        ({"batches.meta": pickle.dumps({"label_names": ["a"]}, protocol=2)}, "label_names"),
    ],
)
def test_cifar_malformed_batches(tmp_path, make_cifar, replace, message):
    path = tmp_path / "cifar-10-python.tar.gz"
    make_cifar(path, replace=replace)
    with pytest.raises(DataFileError, match=message) as error:
        read_cifar10(path)
    assert "cifar-10-python.tar.gz" in str(error.value)


def test_cifar_missing_batch_and_not_an_archive(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with pytest.raises(DataFileError, match="data_batch_1"):
        read_cifar10(folder)
    bogus = tmp_path / "cifar-10-python.tar.gz"
    bogus.write_bytes(b"this is not a tarball")
    with pytest.raises(DataFileError, match="cifar-10-python.tar.gz"):
        read_cifar10(bogus)


# --- ODDS .mat -----------------------------------------------------------------------------------


def test_mat_v5_casts_x_and_flattens_y(tmp_path):
    X = np.arange(12, dtype=np.int16).reshape(4, 3)
    y = np.array([[0], [1], [0], [0]], dtype=np.uint8)
    scipy.io.savemat(tmp_path / "d.mat", {"X": X, "y": y})
    read_X, read_y = read_mat(tmp_path / "d.mat")
    assert read_X.dtype == np.float64 and read_y.dtype == np.int64
    np.testing.assert_array_equal(read_X, X)
    np.testing.assert_array_equal(read_y, [0, 1, 0, 0])


@pytest.mark.parametrize("userblock", [True, False])
def test_mat_v73_hdf5_is_transposed_back(tmp_path, userblock):
    h5py = pytest.importorskip("h5py")
    X = np.arange(15, dtype=np.float64).reshape(5, 3)
    y = np.array([0, 0, 1, 0, 1], dtype=np.float64)
    path = tmp_path / "d73.mat"
    with h5py.File(path, "w", userblock_size=512 if userblock else 0) as file:
        # MATLAB writes column-major data, which HDF5 sees as the transpose.
        file["X"] = X.T
        file["y"] = y[None, :]
    if userblock:
        with open(path, "r+b") as file:
            file.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .")
    read_X, read_y = read_mat(path)
    np.testing.assert_array_equal(read_X, X)
    np.testing.assert_array_equal(read_y, [0, 0, 1, 0, 1])


def test_mat_v73_missing_variable(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "d73.mat", "w") as file:
        file["data"] = np.zeros((2, 3))
    with pytest.raises(DataFileError, match=r"d73\.mat.*'X'"):
        read_mat(tmp_path / "d73.mat")


@pytest.mark.parametrize(
    "contents, message",
    [
        ({"X": np.zeros((3, 2)), "labels": np.zeros(3)}, "'y'"),
        ({"X": np.zeros((3, 2)), "y": np.array([0, 1, 2])}, "0 .inlier. or 1"),
        ({"X": np.zeros((3, 2)), "y": np.zeros(4)}, "4 entries"),
        ({"X": np.array(["a", "b"]), "y": np.zeros(2)}, "numeric 2-d"),
    ],
)
def test_mat_bad_contents(tmp_path, contents, message):
    scipy.io.savemat(tmp_path / "bad.mat", contents)
    with pytest.raises(DataFileError, match=message) as error:
        read_mat(tmp_path / "bad.mat")
    assert "bad.mat" in str(error.value)


def test_mat_garbage(tmp_path):
    (tmp_path / "garbage.mat").write_bytes(b"MATLAB? no." * 20)
    with pytest.raises(DataFileError, match="garbage.mat"):
        read_mat(tmp_path / "garbage.mat")


# --- ADBench .npz --------------------------------------------------------------------------------


def test_npz_round_trip(tmp_path):
    np.savez(tmp_path / "6_cardio.npz", X=np.ones((4, 2), np.float32), y=np.array([0, 1, 0, 0]))
    X, y = read_npz(tmp_path / "6_cardio.npz")
    assert X.dtype == np.float64 and X.shape == (4, 2)
    np.testing.assert_array_equal(y, [0, 1, 0, 0])


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"X": np.array([{"a": 1}, None], dtype=object), "y": np.zeros(2)}, "pickle"),
        ({"features": np.zeros((2, 2)), "y": np.zeros(2)}, "'X'"),
        ({"X": np.zeros((2, 2)), "y": np.zeros(3)}, "3 entries"),
    ],
)
def test_npz_bad(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataFileError, match=message) as error:
        read_npz(tmp_path / "bad.npz")
    assert "bad.npz" in str(error.value)


def test_npz_given_a_npy(tmp_path):
    np.save(tmp_path / "plain.npz", np.zeros(3))  # np.save appends .npy
    (tmp_path / "plain.npz.npy").rename(tmp_path / "plain.npz")
    with pytest.raises(DataFileError, match="plain.npz"):
        read_npz(tmp_path / "plain.npz")


# --- tables --------------------------------------------------------------------------------------

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6], "label": [0, -1, 1]})


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.tsv", "t.parquet"])
def test_table_round_trip(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
        FRAME.to_parquet(path)
    else:
        FRAME.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    X, y = read_table(path, label_column="label")
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X, [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(y, [0, -1, 1])
    X_all, no_labels = read_table(path)
    assert X_all.shape == (3, 3) and no_labels is None


def test_table_as_frame_keeps_the_feature_names(tmp_path):
    FRAME.to_csv(tmp_path / "t.csv", index=False)
    features, y = read_table(tmp_path / "t.csv", label_column="label", as_frame=True)
    assert isinstance(features, pd.DataFrame) and list(features.columns) == ["a", "b"]
    assert (features.dtypes == np.float64).all()
    np.testing.assert_array_equal(features.to_numpy(), [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(y, [0, -1, 1])


def test_table_missing_label_column_lists_columns(tmp_path):
    FRAME.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataFileError, match=r"t\.csv.*'target'.*\['a', 'b', 'label'\]"):
        read_table(tmp_path / "t.csv", label_column="target")


def test_table_non_numeric_feature(tmp_path):
    FRAME.assign(name=["x", "y", "z"]).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataFileError, match=r"t\.csv.*\['name'\]"):
        read_table(tmp_path / "t.csv", label_column="label")


def test_table_garbage_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    (tmp_path / "t.parquet").write_bytes(b"PAR1 but not really")
    with pytest.raises(DataFileError, match="t.parquet"):
        read_table(tmp_path / "t.parquet")


def test_table_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="t.xlsx"):
        read_table(tmp_path / "t.xlsx")


# --- arrays with a label file --------------------------------------------------------------------


@pytest.mark.parametrize("label_name", ["labels.npy", "labels.npz", "labels.txt"])
def test_arrays_with_label_file(tmp_path, label_name):
    X = np.arange(24, dtype=np.uint8).reshape(4, 2, 3)
    labels = np.array([0, 1, -1, 0])
    np.save(tmp_path / "X.npy", X)
    if label_name.endswith(".npy"):
        np.save(tmp_path / label_name, labels)
    elif label_name.endswith(".npz"):
        np.savez(tmp_path / label_name, labels=labels[:, None])
    else:
        np.savetxt(tmp_path / label_name, labels, fmt="%d")
    read_X, y = read_arrays(tmp_path / "X.npy", tmp_path / label_name)
    assert read_X.dtype == np.uint8
    np.testing.assert_array_equal(read_X, X)
    np.testing.assert_array_equal(y, labels)


def test_arrays_single_array_npz_and_no_labels(tmp_path):
    np.savez(tmp_path / "X.npz", features=np.ones((3, 2)))
    X, y = read_arrays(tmp_path / "X.npz")
    assert X.shape == (3, 2) and y is None


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: np.save(p / "X.npy", np.zeros(5)), "ndim >= 2"),
        (lambda p: np.save(p / "X.npy", np.array([{}, {}], dtype=object)), "pickle"),
        (lambda p: np.savez(p / "X.npz", a=np.zeros((2, 2)), b=np.zeros((2, 2))), "exactly one array"),
    ],
)
def test_arrays_bad_data(tmp_path, write, message):
    write(tmp_path)
    path = next(tmp_path.glob("X.*"))
    with pytest.raises(DataFileError, match=message) as error:
        read_arrays(path)
    assert path.name in str(error.value)


def test_arrays_label_count_mismatch(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros((4, 2)))
    np.save(tmp_path / "y.npy", np.zeros(3))
    with pytest.raises(DataFileError, match=r"y\.npy.*expected 4 labels"):
        read_arrays(tmp_path / "X.npy", tmp_path / "y.npy")


# --- dispatch ------------------------------------------------------------------------------------


def test_user_data_dispatch(tmp_path):
    pytest.importorskip("pyarrow")
    FRAME.to_parquet(tmp_path / "t.parquet")
    np.save(tmp_path / "X.npy", np.zeros((3, 2)))
    np.save(tmp_path / "y.npy", np.array([0, 1, 0]))
    scipy.io.savemat(tmp_path / "o.mat", {"X": np.zeros((3, 2)), "y": np.array([[0], [1], [0]])})
    assert read_user_data(tmp_path / "t.parquet", label_column="label")[0].shape == (3, 2)
    assert read_user_data(tmp_path / "X.npy", labels_path=tmp_path / "y.npy")[1].tolist() == [0, 1, 0]
    assert read_user_data(tmp_path / "o.mat")[1].tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="label_column"):
        read_user_data(tmp_path / "t.parquet", labels_path=tmp_path / "y.npy")
    with pytest.raises(ValueError, match="labels_path"):
        read_user_data(tmp_path / "X.npy", label_column="label")
    with pytest.raises(ValueError, match="data.h5"):
        read_user_data(tmp_path / "data.h5")
