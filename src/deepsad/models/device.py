"""Choosing the torch device and seeding, shared by the deep estimators."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_device(device) -> torch.device:
    """"auto" means CUDA when present, else the CPU; anything else must name a torch device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}") from error
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but CUDA is not available here")
    return resolved


def draw_seed(random_state) -> int:
    """One integer seed from an int, a NumPy RandomState/Generator, or None (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return int(check_random_state(random_state).randint(0, 2**31 - 1))
