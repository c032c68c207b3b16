"""The data root and checksum-verified downloads of official data files.

Each data set names its files (``RemoteFile``: where it lives under the data root, its
mirrors, its checksum) in its descriptor (``deepsad.data.datasets``); ``ensure_file`` finds a
file there or, when asked to, downloads and verifies it.
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
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import platformdirs

from deepsad.user_warnings import warn

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike

__all__ = ["ChecksumWarning", "DownloadError", "RemoteFile", "data_root", "ensure_file", "file_hash"]

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
    """Where data files live: ``root`` if given, else ``$DEEPSAD_DATA``, else the user's cache
    folder for deepsad (``platformdirs``: ``~/.cache/deepsad`` or ``$XDG_CACHE_HOME/deepsad``
    on Linux, ``~/Library/Caches/deepsad`` on macOS, the local app-data cache on Windows).
    Nothing is created here.

    Example
    -------
    >>> str(data_root("/data/benchmarks"))
    '/data/benchmarks'
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(DATA_ROOT_ENV):
        return Path(os.environ[DATA_ROOT_ENV]).expanduser()
    return Path(platformdirs.user_cache_dir("deepsad", appauthor=False))


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


def ensure_file(root: PathLike | None, remote: RemoteFile, *, download: bool = False) -> Path:
    """Path of an official file under the data root, downloading and verifying it if missing
    and ``download`` is true.

    A present file whose checksum differs from the official one is used with a
    :class:`ChecksumWarning` naming both hashes (for example a reconstructed CIFAR-10). A
    missing file is downloaded to a temporary file next to its destination, verified, and
    moved into place atomically; a failed download leaves nothing behind and raises
    :class:`DownloadError` naming the URL and where to put the file by hand. Without
    ``download`` a missing file raises ``FileNotFoundError`` saying where to get it.

    Example
    -------
    >>> from deepsad.data.datasets import dataset_info
    >>> path = ensure_file(None, dataset_info("thyroid").files["data"], download=True)  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'thyroid.mat'
    """
    destination = data_root(root) / remote.relative_path
    algorithm, expected = remote.checksum
    if destination.is_file():
        actual = file_hash(destination, algorithm)
        if actual != expected:
            warn(
                f"{destination} differs from the official file ({algorithm} {actual}, official "
                f"{expected}); using it as it is",
                ChecksumWarning,
            )
        return destination
    if not download:
        raise FileNotFoundError(
            f"{destination} is missing; download it (download=True, or the command line's "
            f"--download) or get it from {remote.urls[0]} and save it there"
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
