"""Fixtures for the data tests: small generated files in every format, a fake network, and the
shared real data (found via $DEEPSAD_TEST_DATA or next to the repository; skipped when absent)."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

# Same type codes as the idx format; tests write big-endian data like the official files.
IDX_TYPE_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B, np.dtype("i4"): 0x0C,
                  np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}  # fmt: skip


def _shared_data_root() -> Path:
    if os.environ.get("DEEPSAD_TEST_DATA"):
        return Path(os.environ["DEEPSAD_TEST_DATA"])
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """The real benchmark files, or a skip when they are not on this machine."""
    root = _shared_data_root()
    if not root.is_dir():
        pytest.skip(f"real data not found at {root} (set DEEPSAD_TEST_DATA)")

    def require(*relative: str) -> Path:
        for part in relative:
            if not (root / part).exists():
                pytest.skip(f"real data file {root / part} is absent")
        return root

    return require


@pytest.fixture
def write_idx():
    """``write_idx(path, array, compress=True)`` writes ``array`` as an idx file."""

    def write(path: Path, array: np.ndarray, compress: bool = True) -> Path:
        array = np.asarray(array)
        header = bytes([0, 0, IDX_TYPE_CODES[array.dtype.newbyteorder("=")], array.ndim])
        header += np.asarray(array.shape, dtype=">u4").tobytes()
        content = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(content) if compress else content)
        return path

    return write


def cifar_batch_bytes(
    n: int, offset: int, legacy_names: bool = False
) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A CIFAR-10 batch pickle (protocol 2, str keys as read with latin1) and its contents."""
    rng = np.random.default_rng(offset)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [(offset + i) % 10 for i in range(n)]
    batch = {"batch_label": f"batch {offset}", "labels": labels, "data": data,
             "filenames": [f"img_{offset + i}.png" for i in range(n)]}  # fmt: skip
    content = pickle.dumps(batch, protocol=2)
    if legacy_names:
        # The official files were written by Python 2 with numpy 1: numpy.core, not numpy._core.
        content = content.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    return content, data, np.asarray(labels)


CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar_archive(path: Path, per_batch: int = 12, replace: dict[str, bytes] | None = None,
                        legacy_names: bool = True) -> dict:  # fmt: skip
    """Write a tiny ``cifar-10-python.tar.gz``; return the arrays it should read back as."""
    members, train_X, train_y = {}, [], []
    for i in range(1, 6):
        content, X, y = cifar_batch_bytes(per_batch, offset=i * 100, legacy_names=legacy_names)
        members[f"data_batch_{i}"] = content
        train_X.append(X)
        train_y.append(y)
    members["test_batch"], test_X, test_y = cifar_batch_bytes(per_batch, offset=7, legacy_names=legacy_names)
    members["batches.meta"] = pickle.dumps({"label_names": CIFAR_NAMES, "num_vis": 3072}, protocol=2)
    members.update(replace or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return dict(X_train=np.concatenate(train_X).reshape(-1, 3, 32, 32), y_train=np.concatenate(train_y),
                X_test=test_X.reshape(-1, 3, 32, 32), y_test=test_y)  # fmt: skip


@pytest.fixture
def make_cifar():
    """``make_cifar(path, per_batch=12, replace=None, legacy_names=True)``: see write_cifar_archive."""
    return write_cifar_archive


@pytest.fixture
def cifar_archive(tmp_path):
    """``(path, expected)`` for a tiny, well-formed CIFAR-10 tarball."""
    path = tmp_path / "cifar-10-python.tar.gz"
    return path, write_cifar_archive(path)


class FakeNetwork:
    """Serves registered URLs from memory; any other URL fails as if offline."""

    def __init__(self):
        self.responses: dict[str, bytes | Exception] = {}
        self.requested: list[str] = []

    def serve(self, url: str, response: bytes | Exception) -> None:
        self.responses[url] = response

    def urlopen(self, request, timeout=None):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        self.requested.append(url)
        offline = urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        response = self.responses.get(url, offline)
        if isinstance(response, Exception):
            raise response
        return io.BytesIO(response)


@pytest.fixture
def network(monkeypatch):
    """A :class:`FakeNetwork` standing in for ``urllib.request.urlopen``: tests never go online."""
    fake = FakeNetwork()
    monkeypatch.setattr(urllib.request, "urlopen", fake.urlopen)
    return fake


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No DEEPSAD_DATA, and a cache/home inside tmp_path, so the real user's dirs are never used."""
    monkeypatch.delenv("DEEPSAD_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path
