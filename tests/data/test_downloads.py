"""Data root, checksums and downloads; the network is always the in-memory fake."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import pytest

from deepsad.data import downloads
from deepsad.data.datasets import DATASETS
from deepsad.data.downloads import ChecksumWarning, DownloadError, RemoteFile, data_root, ensure_file, file_hash

CONTENT = b"deepsad test payload " * 1000
SHA256 = hashlib.sha256(CONTENT).hexdigest()
MD5 = hashlib.md5(CONTENT).hexdigest()
PRIMARY, MIRROR = "https://primary.example/file.bin", "http://mirror.example/file.bin"


@pytest.fixture
def test_entry():
    """A file holding CONTENT, served from two URLs, stored at Test/sub/file.bin."""
    return RemoteFile("Test/sub/file.bin", (PRIMARY, MIRROR), sha256=SHA256)


OFFICIAL_FILES = {f"{name}/{role}": remote for name, info in DATASETS.items() for role, remote in info.files.items()}


# --- data root -----------------------------------------------------------------------------------


def test_data_root_precedence(clean_environment, monkeypatch):
    tmp_path = clean_environment
    assert data_root() == tmp_path / "home" / ".cache" / "deepsad"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "xdg" / "deepsad"
    monkeypatch.setenv("DEEPSAD_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert data_root(str(tmp_path / "explicit")) == tmp_path / "explicit"


def test_data_root_ignores_empty_env_and_expands_user(clean_environment, monkeypatch):
    monkeypatch.setenv("DEEPSAD_DATA", "")
    assert data_root() == clean_environment / "home" / ".cache" / "deepsad"
    assert data_root("~/data") == clean_environment / "home" / "data"


# --- the data sets' files -------------------------------------------------------------------------

SHARED_LAYOUT = {
    *(f"{folder}/raw/{split}-{kind}-ubyte.gz" for folder in ("MNIST", "FashionMNIST")
      for split in ("train", "t10k") for kind in ("images-idx3", "labels-idx1")),
    "CIFAR10/cifar-10-python.tar.gz",
    *(f"ODDS/{name}.mat" for name in ("arrhythmia", "cardio", "satellite", "satimage-2", "shuttle",
                                      "thyroid")),
}  # fmt: skip


def test_files_match_shared_layout_and_have_checksums():
    assert {entry.relative_path for entry in OFFICIAL_FILES.values()} == SHARED_LAYOUT
    for key, entry in OFFICIAL_FILES.items():
        algorithm, digest = entry.checksum
        assert len(digest) == {"sha256": 64, "md5": 32}[algorithm], key
        assert entry.urls and all(url.startswith(("https://", "http://")) for url in entry.urls), key
        assert all(url.endswith(Path(entry.relative_path).name) for url in entry.urls), key
    assert OFFICIAL_FILES["cifar10/archive"].checksum == ("md5", "c58f30108f718f92721af3b95e74349a")
    mnist_urls = OFFICIAL_FILES["mnist/train_images"].urls
    assert mnist_urls[0].startswith("https://ossci-datasets.s3.amazonaws.com/mnist/")
    assert mnist_urls[1].startswith("http://yann.lecun.com/exdb/mnist/")
    assert len(OFFICIAL_FILES["mnist/test_labels"].urls) == 2


# --- hashing -------------------------------------------------------------------------------------


def test_file_hash_is_correct_and_cached(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(CONTENT)
    assert file_hash(path) == SHA256 and file_hash(path, "md5") == MD5
    hits = downloads._cached_hash.cache_info().hits
    assert file_hash(path) == SHA256
    assert downloads._cached_hash.cache_info().hits == hits + 1
    path.write_bytes(CONTENT + b"!")
    assert file_hash(path) == hashlib.sha256(CONTENT + b"!").hexdigest()


# --- ensure_file ---------------------------------------------------------------------------------


def test_present_and_matching(tmp_path, test_entry, network):
    destination = tmp_path / test_entry.relative_path
    destination.parent.mkdir(parents=True)
    destination.write_bytes(CONTENT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ensure_file(tmp_path, test_entry, download=True) == destination
    assert network.requested == []


def test_present_with_other_checksum_warns_and_is_used(tmp_path, test_entry, network):
    destination = tmp_path / test_entry.relative_path
    destination.parent.mkdir(parents=True)
    destination.write_bytes(b"a reconstruction")
    actual = hashlib.sha256(b"a reconstruction").hexdigest()
    with pytest.warns(ChecksumWarning, match=f"{actual}.*{SHA256}"):
        assert ensure_file(tmp_path, test_entry, download=True) == destination
    assert destination.read_bytes() == b"a reconstruction" and network.requested == []


def test_md5_only_entry(tmp_path, network):
    network.serve(PRIMARY, CONTENT)
    assert ensure_file(tmp_path, RemoteFile("md5.bin", (PRIMARY,), md5=MD5), download=True).read_bytes() == CONTENT


def test_missing_file_is_downloaded_atomically(tmp_path, test_entry, network):
    network.serve(PRIMARY, CONTENT)
    path = ensure_file(tmp_path, test_entry, download=True)
    assert path == tmp_path / "Test" / "sub" / "file.bin" and path.read_bytes() == CONTENT
    assert os.listdir(path.parent) == ["file.bin"]  # no temporary file left behind
    assert network.requested == [PRIMARY]


def test_falls_back_to_mirror(tmp_path, test_entry, network):
    network.serve(MIRROR, CONTENT)
    assert ensure_file(tmp_path, test_entry, download=True).read_bytes() == CONTENT
    assert network.requested == [PRIMARY, MIRROR]


def test_failed_verification_leaves_nothing(tmp_path, test_entry, network):
    network.serve(PRIMARY, b"tampered")
    network.serve(MIRROR, CONTENT[:-1])
    with pytest.raises(DownloadError, match="does not match") as error:
        ensure_file(tmp_path, test_entry, download=True)
    assert hashlib.sha256(b"tampered").hexdigest() in str(error.value)
    assert os.listdir(tmp_path / "Test" / "sub") == []


class _BrokenStream:
    """A response that dies half-way through, as a dropped connection does."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __init__(self):
        self.calls = 0

    def read(self, size=-1):
        self.calls += 1
        if self.calls > 1:
            raise ConnectionResetError("connection reset by peer")
        return CONTENT[:100]


def test_interrupted_download_leaves_nothing(tmp_path, test_entry, network, monkeypatch):
    monkeypatch.setattr(network, "urlopen", lambda request, timeout=None: _BrokenStream())
    monkeypatch.setattr("urllib.request.urlopen", network.urlopen)
    with pytest.raises(DownloadError, match="connection reset"):
        ensure_file(tmp_path, test_entry, download=True)
    assert os.listdir(tmp_path / "Test" / "sub") == []


def test_offline_error_names_file_url_and_destination(tmp_path, test_entry, network):
    with pytest.raises(DownloadError) as error:
        ensure_file(tmp_path, test_entry, download=True)
    message = str(error.value)
    destination = tmp_path / "Test" / "sub" / "file.bin"
    assert "file.bin" in message and PRIMARY in message and MIRROR in message
    assert f"save it as {destination}" in message and "name resolution" in message
    assert not destination.exists()


def test_no_download_unless_asked(tmp_path, test_entry, network):
    network.serve(PRIMARY, CONTENT)
    with pytest.raises(FileNotFoundError, match=f"download=True.*{PRIMARY}.*save it there") as error:
        ensure_file(tmp_path, test_entry)
    assert str(tmp_path / "Test" / "sub" / "file.bin") in str(error.value)
    assert network.requested == []


def test_root_none_uses_data_root(clean_environment, monkeypatch, test_entry, network):
    monkeypatch.setenv("DEEPSAD_DATA", str(clean_environment / "env-root"))
    network.serve(PRIMARY, CONTENT)
    assert ensure_file(None, test_entry, download=True) == clean_environment / "env-root" / "Test" / "sub" / "file.bin"


# --- the real files ------------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.parametrize("key", [key for key in OFFICIAL_FILES if not key.startswith("cifar10/")])
def test_shared_files_match_the_official_checksums(shared_data, network, key):
    remote = OFFICIAL_FILES[key]
    root = shared_data(remote.relative_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ensure_file(root, remote) == root / remote.relative_path


@pytest.mark.data
def test_shared_cifar_is_flagged_as_not_official(shared_data, network):
    root = shared_data("CIFAR10/cifar-10-python.tar.gz")
    with pytest.warns(ChecksumWarning, match="89fed4b7c.*c58f30108f718f92721af3b95e74349a"):
        ensure_file(root, OFFICIAL_FILES["cifar10/archive"])
