"""The results store of a sweep: one SQLite file, one row per experiment.

SQLite because it is embedded (no server, in Python's standard library), each finished
experiment is committed in its own transaction (a killed sweep loses only the experiments that
were running), and a half-written row cannot exist. Records are JSON; test scores are float32
arrays in an ``.npz`` payload (``ExperimentOutcome``: scores, truth and test indices, kept for ROC
curves and image grids in reports).

A store is written by the sweeps that run into it and read by anyone: ``readonly=True`` opens
an existing store without changing a byte of the file (reports; beside a store in WAL mode,
SQLite may leave its empty ``-wal`` and ``-shm`` companions, which the next sweep removes). A
store is recognised by its ``experiments`` and ``meta`` tables and its schema version; a writer
never adds tables to any other database. Sweeps that share a store claim each experiment
before running it (a lease in the ``leases`` table, see ``ResultsStore.claim``), so they split
the work instead of each running all of it.
"""

from __future__ import annotations

import enum
import json
import math
import re
import sqlite3
import time
import zipfile
from collections.abc import Collection, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from deepsad._version import __version__
from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.records import RunRecord
from deepsad.experiments.spec import Experiment

SCHEMA_VERSION = 1
APPLICATION = "deepsad"
OK, FAILED = "ok", "failed"
SQLITE_HEADER = b"SQLite format 3\x00"

# The leases table came after schema version 1 was released: writers add it to older stores
# (IF NOT EXISTS), readers never touch it, so the version stays.
_TABLES = (
    """CREATE TABLE IF NOT EXISTS experiments (
        key TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        experiment TEXT NOT NULL,
        record TEXT,
        outcome BLOB,
        error TEXT,
        finished_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
    )""",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL)",
)
_RECORD_FIELDS = {"key": str, "experiment": dict, "metrics": dict}
"""The types of the entries every stored record has (reports rely on them)."""
_OPTIONAL_RECORD_FIELDS = {"sizes": dict, "seconds": dict, "known_anomaly_classes": list}
_JSON_TYPES = {str: "string", dict: "object", list: "array"}
# SQLite's result codes for a file that is not (or no longer) a consistent database, or whose
# tables are not those of a store; the other codes (busy, read-only, I/O, full) are the system's.
_DAMAGED_CODES = ("SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_ERROR")


class Claim(enum.Enum):
    """What ``ResultsStore.claim`` found: the experiment is now leased to the caller, already in
    the store, or leased to another owner."""

    CLAIMED = "claimed"
    FINISHED = "finished"
    TAKEN = "taken"


class ResultsStore:
    """Finished experiments by key, in one SQLite file.

    Written by the parent process of each sweep that uses it; read by any process. A writer
    creates the file (and its folder) when missing; ``readonly=True`` opens an existing store
    for reading and changes nothing in the file. A file that is not a deepsad store (not
    SQLite, empty when read, another application's database, a store of another schema
    version) is refused with a ``ValueError``; so is a damaged one, by any method that reads it.

    Example
    -------
    >>> store = ResultsStore("results.sqlite", readonly=True)  # doctest: +SKIP
    >>> store.keys(status="ok")  # doctest: +SKIP
    {'3f9a...', ...}
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if not self._check_file():
            if readonly:
                raise FileNotFoundError(f"results store {self.path} does not exist")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._database() as db:
            is_store = self._identify(db)
        if readonly:
            if not is_store:
                raise ValueError(f"{self.path} is not a deepsad results store (an SQLite database without tables)")
            return
        with self._database() as db:
            db.execute("PRAGMA journal_mode = WAL")  # persistent; readers (reports) do not block the sweep
        with self._database(write=True) as db:
            for table in _TABLES:
                db.execute(table)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('application', ?)", (APPLICATION,))

    def _check_file(self) -> bool:
        """Whether the file exists; refuse one that is not SQLite, or empty when reading."""
        try:
            with open(self.path, "rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except FileNotFoundError:
            return False
        if header == b"" and self.readonly:
            raise ValueError(f"{self.path} is not a deepsad results store (an empty file)")
        if header not in (b"", SQLITE_HEADER):
            raise ValueError(f"{self.path} is not a deepsad results store (not an SQLite file)")
        return True

    def _identify(self, db: sqlite3.Connection) -> bool:
        """True for a deepsad store this version reads, False for a database without tables."""
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return False
        foreign = f"{self.path} is an SQLite database but not a deepsad results store"
        if not {"experiments", "meta"} <= tables:
            raise ValueError(f"{foreign} (it has no 'experiments' and 'meta' tables); choose another file")
        try:
            meta = dict(db.execute("SELECT name, value FROM meta WHERE name IN ('application', 'schema_version')"))
        except sqlite3.OperationalError as error:
            raise ValueError(f"{foreign} (its meta table: {error})") from error
        if meta.get("application", APPLICATION) != APPLICATION:
            raise ValueError(f"{foreign} (it belongs to {meta['application']!r})")
        if "schema_version" not in meta:
            raise ValueError(f"{foreign} (its meta table has no schema_version)")
        version = str(meta["schema_version"])
        if not re.fullmatch(r"-?[0-9]+", version):
            raise self._damaged(f"its schema version {version!r} is not an integer")
        if int(version) != SCHEMA_VERSION:
            raise ValueError(
                f"{self.path} has results-store schema version {version}; this deepsad reads version "
                f"{SCHEMA_VERSION} (use the deepsad that wrote it, or a new store)"
            )
        return True

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE) by writers
        if self.readonly:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
        return sqlite3.connect(self.path, timeout=60, isolation_level=None)

    @contextmanager
    def _database(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; with ``write``, inside one transaction that holds the write lock from
        its start and commits when the block ends without an error. SQLite's errors become a
        ``ValueError`` (damaged or foreign file) or an ``OSError`` (busy, read-only, disk)."""
        try:
            with closing(self._connect()) as db:
                if write:
                    db.execute("BEGIN IMMEDIATE")
                yield db
                if write:
                    db.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            if getattr(error, "sqlite_errorname", "SQLITE_ERROR").startswith(_DAMAGED_CODES):
                raise self._damaged(str(error)) from error
            raise OSError(f"results store {self.path} could not be used: {error}") from error

    def _unreadable(self, key: str, record: dict, problem: str) -> ValueError:
        """A record this deepsad cannot read: written by another version (which may know methods,
        data sets or fields that this one does not), else damaged."""
        environment = record.get("environment")
        writer = environment.get("deepsad") if isinstance(environment, dict) else None
        if isinstance(writer, str) and writer != __version__:
            return ValueError(
                f"results store {self.path}: the record of experiment {key!r} was written by deepsad {writer}, and "
                f"this deepsad ({__version__}) cannot read it: it {problem}. Read the store with the deepsad that "
                "wrote it (or, if that one cannot read it either, the record is damaged)"
            )
        return self._damaged(f"the record of experiment {key!r} {problem}")

    def _damaged(self, problem: str) -> ValueError:
        return ValueError(f"results store {self.path} is damaged: {problem}")

    def add_result(self, record: RunRecord | dict, outcome: ExperimentOutcome | bytes) -> None:
        """Store a finished experiment: its record (a ``RunRecord`` or its JSON form) and test
        outcome; its lease ends with it."""
        record = record.to_dict() if isinstance(record, RunRecord) else record
        payload = outcome if isinstance(outcome, bytes) else outcome.to_bytes()
        self._put(record["key"], OK, record["experiment"], json.dumps(record), payload, None)

    def add_failure(self, key: str, experiment: dict, error: str) -> None:
        """Store a failed experiment with its error text; its lease ends with it."""
        self._put(key, FAILED, experiment, None, None, error)

    def _put(self, key, status, experiment, record, outcome, error) -> None:
        with self._database(write=True) as db:
            db.execute(
                "INSERT OR REPLACE INTO experiments (key, status, experiment, record, outcome, error) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, status, json.dumps(experiment, sort_keys=True), record, outcome, error),
            )
            db.execute("DELETE FROM leases WHERE key = ?", (key,))

    def claim(self, key: str, owner: str, *, seconds: float, retry_failed: bool = True) -> Claim:
        """Lease the experiment ``key`` to ``owner`` for ``seconds``, in one transaction.

        Returns ``Claim.FINISHED`` when the experiment is in the store (a failure counts only
        without ``retry_failed``), ``Claim.TAKEN`` when another owner holds an unexpired lease
        on it, else ``Claim.CLAIMED`` (the owner's own lease is renewed). The lease ends when the
        result or failure is stored, ``release_leases``, or its expiry (``renew_leases``).
        """
        if not seconds > 0:
            raise ValueError(f"seconds must be positive; got {seconds!r}")
        now = time.time()
        with self._database(write=True) as db:
            row = db.execute("SELECT status FROM experiments WHERE key = ?", (key,)).fetchone()
            if row is not None and (row[0] == OK or not retry_failed):
                return Claim.FINISHED
            lease = db.execute("SELECT owner, expires_at FROM leases WHERE key = ?", (key,)).fetchone()
            if lease is not None and lease[0] != owner and lease[1] > now:
                return Claim.TAKEN
            db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", (key, owner, now + seconds))
        return Claim.CLAIMED

    def renew_leases(self, owner: str, seconds: float) -> None:
        """Extend every lease of ``owner`` to ``seconds`` from now."""
        with self._database(write=True) as db:
            db.execute("UPDATE leases SET expires_at = ? WHERE owner = ?", (time.time() + seconds, owner))

    def release_leases(self, owner: str) -> None:
        """End every lease of ``owner`` (a sweep that stops), so other sweeps may run them."""
        with self._database(write=True) as db:
            db.execute("DELETE FROM leases WHERE owner = ?", (owner,))

    def lease_owners(self) -> set[str]:
        """The owners that hold leases, expired or not."""
        with self._database() as db:
            return {owner for (owner,) in db.execute("SELECT DISTINCT owner FROM leases")}

    def keys(self, status: str | None = None) -> set[str]:
        query, args = "SELECT key FROM experiments", ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        with self._database() as db:
            return {row[0] for row in db.execute(query, args)}

    def records(self, keys: Collection[str] | None = None) -> Iterator[dict]:
        """The records of the successful experiments, in the order they finished; with ``keys``,
        only those stored under these keys (the others are skipped unparsed, so one that this
        version cannot read does not stop the rest)."""
        with self._database() as db:
            rows = db.execute("SELECT key, record FROM experiments WHERE status = 'ok' ORDER BY rowid")
            for key, text in rows:
                if keys is not None and key not in keys:
                    continue
                record = self._json_object(text, f"the record of experiment {key!r}")
                problem = _record_problem(record)
                if problem is not None:
                    raise self._unreadable(key, record, problem)
                yield record

    def outcome(self, key: str) -> ExperimentOutcome:
        with self._database() as db:
            row = db.execute("SELECT outcome FROM experiments WHERE key = ? AND status = 'ok'", (key,)).fetchone()
        if row is None:
            raise KeyError(f"no successful experiment with key {key!r} in {self.path}")
        try:
            return ExperimentOutcome.from_bytes(row[0])
        except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as error:
            raise self._damaged(f"the test outcome of experiment {key!r} cannot be read ({error})") from error

    def failures(self, keys: Collection[str] | None = None) -> list[tuple[dict, str]]:
        """The failed experiments and their errors; with ``keys``, only those stored under these keys."""
        with self._database() as db:
            rows = db.execute("SELECT key, experiment, error FROM experiments WHERE status = 'failed' ORDER BY rowid")
            return [(self._json_object(text, f"the experiment {key!r}"), error) for key, text, error in rows
                    if keys is None or key in keys]

    def _json_object(self, text, what: str) -> dict:
        try:
            value = json.loads(text)
        except (TypeError, ValueError) as error:  # TypeError: NULL or a blob
            raise self._damaged(f"{what} is not valid JSON ({error})") from error
        if not isinstance(value, dict):
            raise self._damaged(f"{what} is not a JSON object")
        return value


def _record_problem(record: dict) -> str | None:
    """What a stored record lacks for reports, or None."""
    for name, kind in _RECORD_FIELDS.items():
        if not isinstance(record.get(name), kind):
            return f"has no {name!r} {_JSON_TYPES[kind]}"
    for name, kind in _OPTIONAL_RECORD_FIELDS.items():
        if record.get(name) is not None and not isinstance(record[name], kind):
            return f"has a {name!r} entry that is not an {_JSON_TYPES[kind]}"
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in record["metrics"].values()):
        return "has metrics that are not numbers"
    if not all(math.isfinite(value) and 0.0 <= value <= 1.0 for value in record["metrics"].values()):
        return "has metrics outside [0, 1]"
    try:  # the experiment as the report reads it: a valid Experiment
        Experiment.from_dict(record["experiment"])
    except (TypeError, ValueError, KeyError) as error:
        return f"has an experiment that is not valid ({error})"
    return None
