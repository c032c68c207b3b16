import sqlite3

import numpy as np
import pytest

from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.store import ResultsStore


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
