import json
import sqlite3
import time
from contextlib import closing

import numpy as np
import pytest

from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.store import Claim, ResultsStore


def record(key: str, auroc: float = 0.9) -> dict:
    return {"key": key, "experiment": {"dataset": "cardio", "method": "deepsad", "seed": 0}, "metrics": {"auroc": auroc}}


def test_results_and_failures_round_trip(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    outcome = ExperimentOutcome(scores=np.array([0.5, 2.25, 1.0]), truth=np.array([0, 1, 0]), indices=np.array([4, 7, 9]))
    store.add_result(record("a", 0.9), outcome)
    store.add_failure("b", {"dataset": "cardio"}, "ValueError: boom\ntraceback")
    assert store.keys() == {"a", "b"}
    assert store.keys(status="ok") == {"a"}
    assert store.keys(status="failed") == {"b"}
    assert [r["metrics"]["auroc"] for r in store.records()] == [0.9]
    read = store.outcome("a")
    assert read.scores.tolist() == [0.5, 2.25, 1.0]
    assert read.truth.tolist() == [0, 1, 0] and read.indices.tolist() == [4, 7, 9]
    assert store.failures() == [({"dataset": "cardio"}, "ValueError: boom\ntraceback")]
    with pytest.raises(KeyError, match="no successful experiment"):
        store.outcome("b")


def test_a_later_success_replaces_a_failure(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    store.add_failure("a", {"dataset": "cardio"}, "boom")
    store.add_result(record("a"), ExperimentOutcome(np.zeros(2), np.array([0, 1]), np.arange(2)))
    assert store.keys(status="ok") == {"a"} and store.failures() == []


def test_reopening_keeps_the_results(tmp_path):
    ResultsStore(tmp_path / "results.sqlite").add_result(record("a"), ExperimentOutcome(np.zeros(2), np.array([0, 1]), np.arange(2)))
    assert ResultsStore(tmp_path / "results.sqlite").keys() == {"a"}


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_text("date,auroc\n")
    with pytest.raises(ValueError, match="not a deepsad results store"):
        ResultsStore(path)


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    ResultsStore(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(ValueError, match="schema version 99"):
        ResultsStore(path)


def outcome() -> ExperimentOutcome:
    return ExperimentOutcome(np.zeros(2), np.array([0, 1]), np.arange(2))


def foreign_database(path):
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE people (name TEXT)")
        db.execute("INSERT INTO people VALUES ('ada')")
    return path.read_bytes()


def files_beside(path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_reading_a_missing_file_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="results store .*missing.sqlite does not exist"):
        ResultsStore(tmp_path / "folder" / "missing.sqlite", readonly=True)
    assert list(tmp_path.iterdir()) == []


def test_reading_an_empty_file_refuses_it_and_leaves_it_empty(tmp_path):
    path = tmp_path / "results.sqlite"
    path.touch()
    with pytest.raises(ValueError, match=r"results.sqlite is not a deepsad results store \(an empty file\)"):
        ResultsStore(path, readonly=True)
    assert path.read_bytes() == b"" and files_beside(path) == ["results.sqlite"]
    ResultsStore(path).add_failure("a", {}, "boom")  # a writer makes an empty file its store
    assert ResultsStore(path, readonly=True).keys() == {"a"}


@pytest.mark.parametrize("readonly", [True, False])
def test_another_applications_database_is_refused_unchanged(tmp_path, readonly):
    path = tmp_path / "people.sqlite"
    before = foreign_database(path)
    with pytest.raises(ValueError, match="people.sqlite is an SQLite database but not a deepsad results store"):
        ResultsStore(path, readonly=readonly)
    assert path.read_bytes() == before and files_beside(path) == ["people.sqlite"]


def test_a_store_marked_as_another_applications_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    ResultsStore(path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = 'other' WHERE name = 'application'")
    with pytest.raises(ValueError, match="not a deepsad results store \\(it belongs to 'other'\\)"):
        ResultsStore(path, readonly=True)


def test_a_database_with_tables_of_the_same_names_but_no_schema_version_is_refused(tmp_path):
    path = tmp_path / "results.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE experiments (key TEXT)")
        db.execute("CREATE TABLE meta (name TEXT, value TEXT)")
    for readonly in (True, False):
        with pytest.raises(ValueError, match="not a deepsad results store \\(its meta table has no schema_version\\)"):
            ResultsStore(path, readonly=readonly)


def test_reading_changes_no_byte_and_never_the_journal_mode(tmp_path):
    path = tmp_path / "results.sqlite"
    store = ResultsStore(path)
    store.add_result(record("a"), outcome())
    store.add_failure("b", {"dataset": "cardio"}, "boom")
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = DELETE")  # so a switch back to WAL would show
    before = path.read_bytes()
    assert before[18:20] == b"\x01\x01"  # the header's file format versions: 1 = rollback journal
    reader = ResultsStore(path, readonly=True)
    assert reader.keys() == {"a", "b"} and [r["key"] for r in reader.records()] == ["a"]
    assert reader.outcome("a").truth.tolist() == [0, 1] and len(reader.failures()) == 1
    assert path.read_bytes() == before and files_beside(path) == ["results.sqlite"]
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_reader_cannot_write(tmp_path):
    ResultsStore(tmp_path / "results.sqlite")
    with pytest.raises(OSError, match="could not be used: attempt to write a readonly database"):
        ResultsStore(tmp_path / "results.sqlite", readonly=True).add_failure("a", {}, "boom")


def test_a_store_of_the_previous_version_is_read_and_upgraded_by_a_writer(tmp_path):
    path = tmp_path / "results.sqlite"
    with closing(sqlite3.connect(path)) as db, db:  # the tables version 1 had before leases and the marker
        db.execute("CREATE TABLE experiments (key TEXT PRIMARY KEY, status TEXT NOT NULL CHECK (status IN "
                   "('ok', 'failed')), experiment TEXT NOT NULL, record TEXT, outcome BLOB, error TEXT, "
                   "finished_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute("INSERT INTO experiments (key, status, experiment, error) VALUES ('a', 'failed', '{}', 'boom')")
    assert ResultsStore(path, readonly=True).failures() == [({}, "boom")]
    assert ResultsStore(path).claim("b", "me", seconds=60) is Claim.CLAIMED
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'application'").fetchone() == ("deepsad",)


@pytest.mark.parametrize("version", ["abc", "1.0", ""])
def test_a_schema_version_that_is_not_an_integer_is_damage(tmp_path, version):
    path = tmp_path / "results.sqlite"
    ResultsStore(path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (version,))
    for readonly in (True, False):
        with pytest.raises(ValueError, match=f"results.sqlite is damaged: its schema version '{version}' is not an integer"):
            ResultsStore(path, readonly=readonly)


@pytest.mark.parametrize(
    "column, value, method, message",
    [
        ("record", "{not json", "records", "the record of experiment 'a' is not valid JSON"),
        ("record", None, "records", "the record of experiment 'a' is not valid JSON"),
        ("record", "[1, 2]", "records", "the record of experiment 'a' is not a JSON object"),
        ("record", '{"key": "a", "experiment": {}}', "records", "the record of experiment 'a' has no 'metrics' object"),
        ("record", '{"key": "a", "experiment": {}, "metrics": {"auroc": "high"}}', "records",
         "the record of experiment 'a' has metrics that are not numbers"),
        ("record", '{"key": "a", "experiment": {}, "metrics": {}, "seconds": 3}', "records",
         "the record of experiment 'a' has a 'seconds' entry that is not an object"),
        ("record", '{"key": "a", "experiment": {}, "metrics": {"auroc": NaN}}', "records",
         r"the record of experiment 'a' has metrics outside \[0, 1\]"),
        ("record", '{"key": "a", "experiment": {"dataset": "digits", "method": "deepsad", "normal_class": "zero"}, '
                   '"metrics": {"auroc": 0.9}}', "records",
         r"the record of experiment 'a' has an experiment that is not valid \(.*normal_class must be one of 0..9"),
        ("outcome", b"not an npz payload", "outcome", "the test outcome of experiment 'a' cannot be read"),
        ("outcome", None, "outcome", "the test outcome of experiment 'a' cannot be read"),
    ],
)
def test_a_malformed_result_is_reported_as_damage(tmp_path, column, value, method, message):
    path = tmp_path / "results.sqlite"
    ResultsStore(path).add_result(record("a"), outcome())
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(f"UPDATE experiments SET {column} = ?", (value,))
    store = ResultsStore(path, readonly=True)
    with pytest.raises(ValueError, match=f"results store .*results.sqlite is damaged: {message}"):
        list(store.records()) if method == "records" else store.outcome("a")


def test_a_record_of_another_version_is_not_called_damaged(tmp_path):
    path = tmp_path / "results.sqlite"
    ResultsStore(path).add_result(record("a"), outcome())
    newer = {"key": "a", "experiment": {"dataset": "digits", "method": "a-method-from-the-future"},
             "metrics": {"auroc": 0.9}, "environment": {"deepsad": "99.0"}}
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE experiments SET record = ?", (json.dumps(newer),))
    with pytest.raises(ValueError, match=r"was written by deepsad 99.0, and this deepsad \(.*\) cannot read it: it has "
                                         r"an experiment that is not valid .*a-method-from-the-future") as error:
        list(ResultsStore(path, readonly=True).records())
    assert not str(error.value).startswith(f"results store {path} is damaged")


def test_a_malformed_failure_is_reported_as_damage(tmp_path):
    path = tmp_path / "results.sqlite"
    ResultsStore(path).add_failure("b", {"dataset": "cardio"}, "boom")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE experiments SET experiment = '{cardio'")
    with pytest.raises(ValueError, match="is damaged: the experiment 'b' is not valid JSON"):
        ResultsStore(path, readonly=True).failures()


@pytest.mark.parametrize("readonly", [True, False])
def test_random_bytes_after_a_valid_header_are_damage(tmp_path, readonly):
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + np.random.default_rng(0).bytes(5000))
    before = path.read_bytes()
    with pytest.raises(ValueError, match="results.sqlite is damaged: file is not a database"):
        ResultsStore(path, readonly=readonly)
    assert path.read_bytes() == before


def test_damaged_pages_are_reported_by_the_reading_methods(tmp_path):
    path = tmp_path / "results.sqlite"
    store = ResultsStore(path)
    for index in range(20):
        store.add_result(record(f"k{index}"), ExperimentOutcome(np.zeros(500), np.ones(500), np.arange(500)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + np.random.default_rng(0).bytes(len(data) - len(data) // 2))
    with pytest.raises(ValueError, match="results.sqlite is damaged: "):
        store = ResultsStore(path, readonly=True)
        store.keys()
        list(store.records())
        [store.outcome(f"k{index}") for index in range(20)]


def test_a_claim_keeps_other_owners_out_until_released(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    assert store.claim("a", "first", seconds=60) is Claim.CLAIMED
    assert store.claim("a", "second", seconds=60) is Claim.TAKEN
    assert store.claim("a", "first", seconds=60) is Claim.CLAIMED  # an owner's own claim is renewed
    assert store.claim("b", "second", seconds=60) is Claim.CLAIMED
    store.release_leases("first")
    assert store.claim("a", "second", seconds=60) is Claim.CLAIMED
    assert store.claim("b", "first", seconds=60) is Claim.TAKEN


def test_storing_a_result_or_failure_ends_its_lease(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    store.claim("a", "first", seconds=60)
    store.claim("b", "first", seconds=60)
    store.add_result(record("a"), outcome())
    store.add_failure("b", {"dataset": "cardio"}, "boom")
    assert store.claim("a", "second", seconds=60) is Claim.FINISHED
    assert store.claim("b", "second", seconds=60, retry_failed=False) is Claim.FINISHED
    assert store.claim("b", "second", seconds=60, retry_failed=True) is Claim.CLAIMED
    assert leases(store.path) == [("b", "second")]


def test_an_expired_lease_is_taken_over_and_a_renewed_one_is_not(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    store.claim("a", "killed", seconds=60)
    store.claim("b", "running", seconds=60)
    with closing(sqlite3.connect(store.path)) as db, db:
        db.execute("UPDATE leases SET expires_at = expires_at - 61")
    store.renew_leases("running", 60)
    assert store.claim("a", "next", seconds=60) is Claim.CLAIMED
    assert store.claim("b", "next", seconds=60) is Claim.TAKEN
    with closing(sqlite3.connect(store.path)) as db:
        [(expires_at,)] = db.execute("SELECT expires_at FROM leases WHERE key = 'b'")
    assert 55 < expires_at - time.time() <= 60


def test_a_claim_must_last(tmp_path):
    with pytest.raises(ValueError, match="seconds must be positive; got 0"):
        ResultsStore(tmp_path / "results.sqlite").claim("a", "me", seconds=0)


def leases(path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT key, owner FROM leases ORDER BY key").fetchall()
