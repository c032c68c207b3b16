"""The data root, the registry of official data files, and checksum-verified downloads.

Layout under the data root (the same as the project's shared data folder)::

    MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    CIFAR10/cifar-10-python.tar.gz
    ODDS/<name>.mat
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import logging
import os
import secrets
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike

__all__ = [
    "REGISTRY",
    "ChecksumWarning",
    "DownloadError",
    "RemoteFile",
    "data_root",
    "dataset_keys",
    "ensure_file",
    "file_hash",
]

DATA_ROOT_ENV = "DEEPSAD_DATA"
_CHUNK = 1 << 20
_TIMEOUT_S = 60


class DownloadError(OSError):
    """A data file is missing and could not be downloaded, or the download failed verification."""


class ChecksumWarning(UserWarning):
    """A data file on disk differs from the official release; it is used as it is."""


@dataclass(frozen=True)
class RemoteFile:
    """One official file: where it lives under the data root, where to get it, its checksum.

    ``urls`` are tried in order. The checksum is sha256 where it is known and the official
    md5 otherwise (CIFAR-10 publishes only an md5).
    """

    relative_path: str
    urls: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None

    @property
    def checksum(self) -> tuple[str, str]:
        """``(algorithm, hex digest)`` used for verification."""
        if self.sha256:
            return "sha256", self.sha256
        if self.md5:
            return "md5", self.md5
        raise ValueError(f"{self.relative_path} has no checksum in the registry")


def data_root(root: PathLike | None = None) -> Path:
    """Where data files live: ``root`` if given, else ``$DEEPSAD_DATA``, else a user cache dir.

    The cache dir is ``$XDG_CACHE_HOME/deepsad``, or ``~/.cache/deepsad`` when
    ``XDG_CACHE_HOME`` is unset. Nothing is created here.

    Example
    -------
    >>> str(data_root("/data/benchmarks"))
    '/data/benchmarks'
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(DATA_ROOT_ENV):
        return Path(os.environ[DATA_ROOT_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "deepsad"


def _idx_files(dataset: str, folder: str, base_urls: tuple[str, ...], hashes: dict) -> dict[str, RemoteFile]:
    return {
        f"{dataset}/{name}": RemoteFile(
            f"{folder}/raw/{name}", tuple(base + name for base in base_urls), sha256=sha256, md5=md5
        )
        for name, (sha256, md5) in hashes.items()
    }


# Hashes from the shared data README; these files are byte-identical to the official releases.
_MNIST = _idx_files(
    "mnist",
    "MNIST",
    # The mirror torchvision uses first; the original site is often unreachable or rate-limited.
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    },
)

_FASHION_MNIST = _idx_files(
    "fashion-mnist",
    "FashionMNIST",
    ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    },
)

_CIFAR10 = {
    "cifar10/cifar-10-python.tar.gz": RemoteFile(
        "CIFAR10/cifar-10-python.tar.gz",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
        md5="c58f30108f718f92721af3b95e74349a",
    )
}

# ODDS (odds.cs.stonybrook.edu) links to Dropbox files whose addresses change. pyod ships the
# ODDS downloads byte for byte; these sha256 values are those of the shared copies taken from
# it. A commit known to hold the file comes first where one is known (thyroid.mat is gone from
# master); master is the fallback. The checksum, not the URL, vouches for the content.
_PYOD = "https://raw.githubusercontent.com/yzhao062/pyod"
_PYOD_COMMITS = {
    "satellite": "b247c08568cbc8147f3fe873a925c4deff89b8b9",
    "shuttle": "b247c08568cbc8147f3fe873a925c4deff89b8b9",
    "satimage-2": "ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2",
    "thyroid": "ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2",
}
_ODDS_SHA256 = {
    "arrhythmia": "e4d47e499591ae31e5d7f0cd983367092353eac240f48e14c9b36457edb3460d",
    "cardio": "5e568b6a73711012c481fa6cc984ab9c68e9a4fa44d6aeb3b43efa381c3f695b",
    "satellite": "6feac3112b9c14e1c3e60afc437f2f3d29dc1000119c9f950c628078778d6aa0",
    "satimage-2": "95c37a07cea2cb201f6900d14f521510e10b6b2f0074c06ac46d3157440ec67b",
    "shuttle": "b6e396c92354d5dcf5036901e36dc58e2913f2d1a5e138c35a2bedf9c69db899",
    "thyroid": "49155d7861b977e90808faf68343ff67a67f63090c2744d514dbb67ac68e7e33",
}
_ODDS = {
    f"odds/{name}.mat": RemoteFile(
        f"ODDS/{name}.mat",
        tuple(
            f"{_PYOD}/{ref}/notebooks/data/{name}.mat"
            for ref in ((_PYOD_COMMITS[name],) if name in _PYOD_COMMITS else ()) + ("master",)
        ),
        sha256=sha256,
    )
    for name, sha256 in _ODDS_SHA256.items()
}

REGISTRY: dict[str, RemoteFile] = {**_MNIST, **_FASHION_MNIST, **_CIFAR10, **_ODDS}
"""Official files by key ``"<dataset>/<file name>"``; ODDS files share the dataset ``odds``."""


def dataset_keys(dataset: str) -> list[str]:
    """Registry keys of one dataset's files, e.g. ``dataset_keys("mnist")`` (four files)."""
    keys = [key for key in REGISTRY if key.split("/", 1)[0] == dataset]
    if not keys:
        known = sorted({key.split("/", 1)[0] for key in REGISTRY})
        raise ValueError(f"dataset must be one of {known}; got {dataset!r}")
    return keys


@functools.lru_cache(maxsize=256)
def _cached_hash(path: str, size: int, mtime_ns: int, algorithm: str) -> str:
    # size and mtime are part of the key so that a replaced file is hashed again.
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_hash(path: PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks and remembered per (path, size, mtime) in-process.

    Example
    -------
    >>> file_hash("ODDS/thyroid.mat")  # doctest: +SKIP
    '49155d7861b977e90808faf68343ff67a67f63090c2744d514dbb67ac68e7e33'
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return _cached_hash(str(resolved), stat.st_size, stat.st_mtime_ns, algorithm)


def ensure_file(root: PathLike | None, key: str, *, download: bool = True) -> Path:
    """Path of a registry file under the data root, downloading and verifying it if missing.

    A present file whose checksum differs from the official one is used with a
    :class:`ChecksumWarning` naming both hashes (for example a reconstructed CIFAR-10). A
    missing file is downloaded to a temporary file next to its destination, verified, and
    moved into place atomically; a failed download leaves nothing behind and raises
    :class:`DownloadError` naming the URL and where to put the file by hand.

    Example
    -------
    >>> path = ensure_file(None, "odds/thyroid.mat")  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'thyroid.mat'
    """
    if key not in REGISTRY:
        raise ValueError(f"key must be one of {sorted(REGISTRY)}; got {key!r}")
    remote = REGISTRY[key]
    destination = data_root(root) / remote.relative_path
    algorithm, expected = remote.checksum
    if destination.is_file():
        actual = file_hash(destination, algorithm)
        if actual != expected:
            warnings.warn(
                f"{destination} differs from the official file ({algorithm} {actual}, official "
                f"{expected}); using it as it is",
                ChecksumWarning,
                stacklevel=2,
            )
        return destination
    if not download:
        raise FileNotFoundError(
            f"{destination} is missing and download=False; get it from {remote.urls[0]} and save it there"
        )
    return _download(remote, destination)


def _fetch(url: str, file: BinaryIO, algorithm: str) -> str:
    """Stream ``url`` into ``file``; return the digest so the file need not be read again."""
    digest = hashlib.new(algorithm)
    request = urllib.request.Request(url, headers={"User-Agent": "deepsad"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
        while chunk := response.read(_CHUNK):
            file.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _download(remote: RemoteFile, destination: Path) -> Path:
    algorithm, expected = remote.checksum
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in remote.urls:
        logger.info("downloading %s to %s", url, destination)
        # A temporary file in the destination folder makes the final os.replace atomic, so a
        # reader (or a concurrent download) never sees a partial file under the real name.
        # (Not mkstemp: its files are private to the user, and a shared data root must stay
        # readable by others under the usual umask.)
        temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(8)}.part")
        try:
            with open(temporary, "xb") as file:
                actual = _fetch(url, file, algorithm)
            if actual == expected:
                os.replace(temporary, destination)
                return destination
            failures.append(f"{url}: {algorithm} {actual} does not match the expected {expected}")
        except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSErrors
            failures.append(f"{url}: {exc}")
        finally:
            temporary.unlink(missing_ok=True)
    tried = "\n  ".join(failures)
    raise DownloadError(
        f"could not get {remote.relative_path}; tried:\n  {tried}\n"
        f"Download it from {remote.urls[0]} and save it as {destination} "
        f"(expected {algorithm} {expected})."
    )
