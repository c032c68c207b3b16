"""Writing files so that a reader never sees a half-written one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

NEW_FILE_MODE = 0o666
"""The mode a new file asks for; the process umask takes its bits away (0o644 under umask 022),
as for any file the user creates."""


def write_atomically(path: str | Path, payload: bytes | str) -> Path:
    """Write ``payload`` to a temporary file beside ``path``, flush it to disk, then rename it
    over ``path`` (a rename within one folder is atomic). Creates missing parent folders.

    The file gets the permissions of a file the user creates (``NEW_FILE_MODE`` less the
    umask); if anything fails, the temporary file is removed and ``path`` is left as it was.
    A symbolic link at ``path`` is followed: its target is replaced, the link kept. Raises an
    OSError naming ``path`` when it cannot be written."""
    path = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    check_writable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    # os.open applies the umask to the mode, as open() does; tempfile would create it 0o600.
    # O_EXCL: a file of that name that appeared meanwhile is never overwritten.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), NEW_FILE_MODE)
    try:
        with open(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def check_writable(path: str | Path) -> None:
    """Raise an OSError naming ``path`` if a file cannot be written there: a folder of that
    name, or a nearest existing parent folder that is not a writable folder. Checked before
    long work whose result goes there."""
    path = Path(path)
    if str(path) in ("", "."):
        raise IsADirectoryError(f"cannot write a file to {str(path)!r}: give a file name")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {path}: the folder {parent} is not writable")
