"""How many worker processes and torch threads a sweep uses: every usable core busy, none
oversubscribed.

The deep methods' networks are small, so a sweep gains most from running experiments side by
side, one process per core with one thread each; a second thread per process next to another
busy process can make a small network many times slower (docs/benchmarks.md, threads). When
fewer experiments are left than cores, the spare cores go to the workers as threads.
"""

from __future__ import annotations

import os

AUTO = "auto"


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask where the system has one (a
    container's or ``taskset``'s limit), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity masks
        return os.cpu_count() or 1


def split_cores(n_experiments: int, workers: int | str = AUTO, threads: int | str = AUTO,
                cores: int | None = None) -> tuple[int, int]:
    """Workers and torch threads per worker for a sweep of ``n_experiments``.

    "auto" workers: one per usable core, at most one per experiment; "auto" threads: the usable
    cores shared among the workers (at least one each). A number given for either is kept.

    Examples
    --------
    >>> split_cores(100, cores=2)
    (2, 1)
    >>> split_cores(1, cores=16)
    (1, 16)
    >>> split_cores(100, workers=4, cores=16)
    (4, 4)
    """
    cores = usable_cores() if cores is None else cores
    for name, value in (("workers", workers), ("threads", threads)):
        if value != AUTO and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be 'auto' or a positive integer; got {value!r}")
    if workers == AUTO:
        workers = max(1, min(cores, n_experiments))
    if threads == AUTO:
        threads = max(1, cores // workers)
    return workers, threads
