"""The one progress-bar helper of the library."""

from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(
    iterable: Iterable[T] | None = None,
    *,
    description: str,
    enabled: bool,
    total: int | None = None,
    initial: int = 0,
    leave: bool = False,
):
    """A progress bar (over ``iterable``, or updated by hand) when ``enabled``; tqdm shows the
    rate and the time left."""
    return tqdm(
        iterable, desc=description, total=total, initial=initial, disable=not enabled, leave=leave,
        dynamic_ncols=True,
    )
