import pytest
from click.testing import CliRunner

from deepsad.cli import main
from deepsad.experiments.report import results_frame, write_report
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore
from deepsad.experiments.stores import StoreUnion
from tests.experiments.test_report import add


@pytest.fixture
def two_stores(tmp_path):
    """first: deepsad seed 0 (0.9) and a failed seed 1; second: deepsvdd (0.7), deepsad seed 0
    again (0.5, the same key as the first's) and seed 1 (0.8), which failed in the first."""
    first = ResultsStore(tmp_path / "first.sqlite")
    add(first, auroc=0.9, seed=0, ratio_known_anomaly=0.01)
    failed = Experiment("cardio", "deepsad", seed=1, ratio_known_anomaly=0.01)
    first.add_failure(failed.key, failed.to_dict(), "RuntimeError: out of memory")
    lost = Experiment("cardio", "deepsad", seed=2, ratio_known_anomaly=0.01)
    first.add_failure(lost.key, lost.to_dict(), "ValueError: first")
    second = ResultsStore(tmp_path / "second.sqlite")
    add(second, method="deepsvdd", auroc=0.7, known=())
    add(second, auroc=0.5, seed=0, ratio_known_anomaly=0.01, n_test=24)
    add(second, auroc=0.8, seed=1, ratio_known_anomaly=0.01)
    second.add_failure(lost.key, lost.to_dict(), "ValueError: second")
    return tmp_path / "first.sqlite", tmp_path / "second.sqlite"


def test_the_stores_read_as_one_each_experiment_from_the_first_that_holds_it(two_stores):
    stores = StoreUnion(two_stores)
    frame = results_frame(stores)
    assert sorted(zip(frame.method, frame.seed, frame.auroc, strict=True)) == [
        ("deepsad", 0, 0.9), ("deepsad", 1, 0.8), ("deepsvdd", 0, 0.7)]
    assert len(stores.keys("ok")) == 3 and len(stores.keys("failed")) == 1 and len(stores.keys()) == 4
    # The outcome comes from the store the record came from.
    seed_0 = Experiment("cardio", "deepsad", seed=0, ratio_known_anomaly=0.01).key
    assert len(stores.outcome(seed_0).scores) == 20 and len(StoreUnion(two_stores[::-1]).outcome(seed_0).scores) == 24
    with pytest.raises(KeyError, match="first.sqlite \\+ .*second.sqlite"):
        stores.outcome("0" * 16)
    with pytest.raises(ValueError, match="status must be"):
        stores.keys("done")


def test_a_failure_is_listed_once_and_only_where_no_store_succeeded(two_stores):
    failures = StoreUnion(two_stores).failures()
    assert [(experiment["seed"], error) for experiment, error in failures] == [(2, "ValueError: first")]
    reversed_order = StoreUnion(two_stores[::-1]).failures()
    assert [error for _, error in reversed_order] == ["ValueError: second"]
    seed_2 = Experiment("cardio", "deepsad", seed=2, ratio_known_anomaly=0.01).key
    assert StoreUnion(two_stores).failures(keys={"0" * 16}) == []
    assert len(StoreUnion(two_stores).failures(keys={seed_2})) == 1


def test_one_report_from_several_stores(two_stores, tmp_path):
    result = CliRunner().invoke(main, ["report", *map(str, two_stores), "--output-dir", str(tmp_path / "out"),
                                       "--group-by", "dataset,method", "--no-plots"])
    assert result.exit_code == 0, result.output
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "# AUROC of first.sqlite + second.sqlite" in summary
    assert "| cardio | deepsad | 85.0 ± 7.1 | 2 |" in summary and "| cardio | deepsvdd | 70.0 ± – | 1 |" in summary
    assert "ValueError: first" in (tmp_path / "out" / "failures.md").read_text()


def test_a_store_named_twice_or_none_is_refused(two_stores, tmp_path):
    with pytest.raises(ValueError, match="given twice"):
        StoreUnion([two_stores[0], two_stores[1], two_stores[0].parent / "." / two_stores[0].name])
    with pytest.raises(ValueError, match="no results store"):
        StoreUnion([])
    with pytest.raises(ValueError, match=r"results stores .*first.sqlite \+ .*second.sqlite hold none"):
        write_report(two_stores, tmp_path / "out", only={"0" * 16})
    (tmp_path / "other").mkdir()
    namesake = ResultsStore(tmp_path / "other" / "first.sqlite")
    add(namesake, auroc=0.6, seed=5)
    write_report([two_stores[0], namesake.path], tmp_path / "out", plots=False)
    assert f"# AUROC of {two_stores[0]} + {namesake.path}" in (tmp_path / "out" / "summary.md").read_text()
    missing = CliRunner().invoke(main, ["report", "--output-dir", str(tmp_path / "out")])
    assert missing.exit_code != 0 and "SOURCE" in missing.output
