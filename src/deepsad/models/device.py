"""Choosing the torch device, the CPU threads and the seed, shared by the deep estimators."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state

from deepsad.networks import has_convolutions

SMALL_NETWORK_PARAMETERS = 1_000_000
"""Fully connected networks up to this many parameters train fastest on one CPU thread: their
operations are too small to split (docs/benchmarks.md), and a second thread next to another busy
process makes them up to 100x slower."""


def resolve_device(device) -> torch.device:
    """"auto" means CUDA when present, else the CPU; anything else must name a torch device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = device_named(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but CUDA is not available here")
    return resolved


def device_named(device) -> torch.device:
    """The CPU or CUDA device ``device`` names (not "auto"), whether or not it is present here;
    a ValueError for anything else."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}") from error
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}")
    return resolved


def draw_seed(random_state) -> int:
    """One integer seed from an int, a NumPy RandomState/Generator, or None (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def cpu_threads_for(module: torch.nn.Module, device: torch.device) -> int | None:
    """The torch threads to train and score ``module`` with: 1 for a small network without
    convolutions on the CPU, else None (leave torch's setting)."""
    if device.type != "cpu" or has_convolutions(module):
        return None
    return 1 if sum(p.numel() for p in module.parameters()) <= SMALL_NETWORK_PARAMETERS else None


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` torch threads (None: unchanged), restoring the caller's."""
    if count is None or count == torch.get_num_threads():
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
