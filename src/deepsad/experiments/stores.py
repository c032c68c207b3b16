"""Several results stores read as one, for a report over sweeps that ran into stores of their own.

A grid is often run as several sweeps, each into its own store (one per configuration, or one
per machine). An experiment's key is the hash of its whole definition, so the same key in two
stores is the same experiment: the first store that holds it successfully is the one read, and
a failure is reported only where no store holds a success under its key.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.store import FAILED, OK, ResultsStore


class StoreUnion:
    """The stores at ``paths`` (one path, or several), opened read-only, with the reading
    methods of ``ResultsStore`` (``records``, ``failures``, ``outcome``, ``keys``) over all of them.

    Example
    -------
    >>> stores = StoreUnion(["results/mnist.sqlite", "results/mnist_deepsvdd.sqlite"])  # doctest: +SKIP
    >>> len(list(stores.records()))  # doctest: +SKIP
    """

    def __init__(self, paths: str | Path | Sequence[str | Path]):
        if isinstance(paths, str | Path):
            paths = [paths]
        if not paths:
            raise ValueError("no results store given")
        self.paths = [Path(path) for path in paths]
        repeated = repeated_paths(self.paths)
        if repeated:
            raise ValueError(f"results store(s) given twice: {repeated}")
        self.stores = [ResultsStore(path, readonly=True) for path in self.paths]
        # Which store each successful key is read from: the first that holds it.
        self._succeeded: dict[str, ResultsStore] = {}
        for store in self.stores:
            for key in store.keys(status=OK):
                self._succeeded.setdefault(key, store)

    @property
    def name(self) -> str:
        """The stores' paths, for messages."""
        return " + ".join(str(path) for path in self.paths)

    @property
    def title(self) -> str:
        """The stores' file names where they tell them apart, else their paths."""
        names = [path.name for path in self.paths]
        return " + ".join(names) if len(set(names)) == len(names) else self.name

    def keys(self, status: str | None = None) -> set[str]:
        if status not in (None, OK, FAILED):
            raise ValueError(f"status must be None, {OK!r} or {FAILED!r}; got {status!r}")
        succeeded = set(self._succeeded)
        if status == OK:
            return succeeded
        failed = set().union(*(store.keys(status=FAILED) for store in self.stores)) - succeeded
        return failed if status == FAILED else succeeded | failed

    def records(self, keys: Collection[str] | None = None) -> Iterator[dict]:
        """The successful experiments' records, store by store (each in the order it finished)."""
        for store in self.stores:
            mine = {key for key, holder in self._succeeded.items() if holder is store}
            yield from store.records(mine if keys is None else mine.intersection(keys))

    def failures(self, keys: Collection[str] | None = None) -> list[tuple[dict, str]]:
        """The failed experiments and their errors, except those that succeeded in any store; an
        experiment that failed in several stores is listed once, with its first store's error."""
        listed: set[str] = set(self._succeeded)
        failures = []
        for store in self.stores:
            mine = store.keys(status=FAILED) - listed
            if keys is not None:
                mine = mine.intersection(keys)
            failures += store.failures(keys=mine)
            listed |= mine
        return failures

    def outcome(self, key: str) -> ExperimentOutcome:
        store = self._succeeded.get(key)
        if store is None:
            raise KeyError(f"no successful experiment with key {key!r} in {self.name}")
        return store.outcome(key)


def repeated_paths(paths: Sequence[Path]) -> list[str]:
    """The paths among ``paths`` that name one file with another (``a.csv``, ``./a.csv``), sorted."""
    resolved = [path.resolve() for path in paths]
    return sorted({str(path) for path, real in zip(paths, resolved, strict=True) if resolved.count(real) > 1})


ReadableStore = ResultsStore | StoreUnion
"""What reports read: one store, or several as one."""
