"""The results store of a sweep: one SQLite file, one row per experiment.

SQLite because it is embedded (no server, in Python's standard library), each finished
experiment is committed in its own transaction (a killed sweep loses only the experiments that
were running), and a half-written row cannot exist. Records are JSON; test scores are float32
arrays in an ``.npz`` payload (``ExperimentOutcome``: scores, truth and test indices, kept for ROC
curves and image grids in reports).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.records import RunRecord

SCHEMA_VERSION = 1
OK, FAILED = "ok", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    experiment TEXT NOT NULL,
    record TEXT,
    outcome BLOB,
    error TEXT,
    finished_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ResultsStore:
    """Finished experiments by key. Written by one process (the sweep's parent); read by any.

    Example
    -------
    >>> store = ResultsStore("results.sqlite")  # doctest: +SKIP
    >>> store.keys(status="ok")  # doctest: +SKIP
    {'3f9a...', ...}
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and not self._is_sqlite(self.path):
            raise ValueError(f"{self.path} is not a deepsad results store (not an SQLite file)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise ValueError(
                    f"{self.path} has results-store schema version {row[0]}; this deepsad reads "
                    f"version {SCHEMA_VERSION}"
                )

    @staticmethod
    def _is_sqlite(path: Path) -> bool:
        with open(path, "rb") as file:
            header = file.read(16)
        return header in (b"", b"SQLite format 3\x00")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode = WAL")  # readers (reports) do not block the sweep
        return db

    def add_result(self, record: RunRecord | dict, outcome: ExperimentOutcome | bytes) -> None:
        """Store a finished experiment: its record (a ``RunRecord`` or its JSON form) and test outcome."""
        record = record.to_dict() if isinstance(record, RunRecord) else record
        payload = outcome if isinstance(outcome, bytes) else outcome.to_bytes()
        self._put(record["key"], OK, record["experiment"], json.dumps(record), payload, None)

    def add_failure(self, key: str, experiment: dict, error: str) -> None:
        self._put(key, FAILED, experiment, None, None, error)

    def _put(self, key, status, experiment, record, outcome, error) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR REPLACE INTO experiments (key, status, experiment, record, outcome, error) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, status, json.dumps(experiment, sort_keys=True), record, outcome, error),
            )

    def keys(self, status: str | None = None) -> set[str]:
        query, args = "SELECT key FROM experiments", ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        with closing(self._connect()) as db:
            return {row[0] for row in db.execute(query, args)}

    def records(self) -> Iterator[dict]:
        """The records of the successful experiments, in the order they finished."""
        with closing(self._connect()) as db:
            for (record,) in db.execute("SELECT record FROM experiments WHERE status = 'ok' ORDER BY rowid"):
                yield json.loads(record)

    def outcome(self, key: str) -> ExperimentOutcome:
        with closing(self._connect()) as db:
            row = db.execute("SELECT outcome FROM experiments WHERE key = ? AND status = 'ok'", (key,)).fetchone()
        if row is None:
            raise KeyError(f"no successful experiment with key {key!r} in {self.path}")
        return ExperimentOutcome.from_bytes(row[0])

    def failures(self) -> list[tuple[dict, str]]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT experiment, error FROM experiments WHERE status = 'failed' ORDER BY rowid")
            return [(json.loads(experiment), error) for experiment, error in rows]
