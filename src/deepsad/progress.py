"""The one progress-bar helper of the library."""

from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T], *, description: str, enabled: bool, total: int | None = None):
    """Wrap ``iterable`` in a progress bar when ``enabled`` (e.g. an estimator's ``verbose``)."""
    return tqdm(iterable, desc=description, total=total, disable=not enabled, leave=False, dynamic_ncols=True)
