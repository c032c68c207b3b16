"""Stop glibc's allocator from handing large freed blocks back to the OS after every minibatch.

glibc serves large allocations with ``mmap`` and raises that size threshold only after such a
block has been freed. In a fresh process the activations of a convolutional autoencoder stay
above the threshold, so every minibatch maps, page-faults and unmaps them again, and the first
fit in a process trains slower than any later one (measured in docs/benchmarks.md). Fixing
both thresholds once makes the first fit as fast as the rest, at the price of keeping up to
``TRIM_THRESHOLD`` bytes of freed memory in the process.

This changes the allocator of the whole process, so the library never does it on its own:
the ``deepsad`` command and its sweep workers call ``retain_freed_memory()`` for their own
processes, and a program that trains many models may call it once itself. Skipped off Linux,
when the user has set glibc's own ``MALLOC_*_`` variables, or when
``DEEPSAD_KEEP_MALLOC_DEFAULTS`` is set.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 * 2**20
TRIM_THRESHOLD = 256 * 2**20
OPT_OUT = "DEEPSAD_KEEP_MALLOC_DEFAULTS"

_configured = False


def retain_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds once per process; True if they were set now."""
    global _configured
    if _configured:
        return False
    _configured = True
    user_settings = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
    if not sys.platform.startswith("linux") or OPT_OUT in os.environ or any(v in os.environ for v in user_settings):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
