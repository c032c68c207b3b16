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
    umask); if anything fails, the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
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
