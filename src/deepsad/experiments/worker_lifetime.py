"""A sweep worker's start: the watch that ends it with its parent, then its torch settings.

Kept apart from ``deepsad.experiments.sweep`` (which imports the models, and with them torch)
because a worker process imports its initializer's module before running it: here the watch
starts before torch is imported, so a sweep killed while its workers still start up leaves
none behind for the half minute that import can take on a loaded machine.
"""

from __future__ import annotations

import os
import threading
import time

PARENT_CHECK_SECONDS = 1.0


def start_worker(threads: int, parent: int) -> None:
    """Initializer of a sweep's worker processes. ``parent`` is the sweep's pid, passed by the
    sweep: read here, it could already be that of the process that adopted an orphan, if the
    sweep was killed while this worker started."""
    threading.Thread(target=exit_with_parent, args=(parent,), daemon=True).start()

    import torch

    from deepsad.allocator import retain_freed_memory

    retain_freed_memory()
    # Small networks gain nothing from intra-op threads, and several workers with several
    # threads each oversubscribe the cores (docs/benchmarks.md).
    torch.set_num_threads(threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def exit_with_parent(parent: int) -> None:
    """A killed sweep must not leave workers behind training (or idling) on their own: a worker
    whose parent is gone (it is re-parented) exits."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)
