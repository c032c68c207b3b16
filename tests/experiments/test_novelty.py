import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from deepsad.data.datasets import load_dataset
from deepsad.experiments.novelty import known_classes, novelty_aurocs
from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.report import results_frame, write_report
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore
from tests.experiments.test_report import add

NORMAL, KNOWN = 3, 1


def add_digits_run(store, method, known_bonus, seed=0, truth_of=None):
    """A digits run (normal class 3, labeled anomalies from class 1) over the first 600 rows,
    which its outcome's indices point into: noise scores, plus ``known_bonus`` for anomalies of
    the known class and 1 for the other anomalies."""
    classes = load_dataset("digits").y
    indices = np.arange(600)
    test_classes = classes[indices]
    truth = (test_classes != NORMAL).astype(int) if truth_of is None else truth_of(test_classes)
    scores = np.random.default_rng(seed).normal(0, 1, len(indices))
    scores += np.where(test_classes == KNOWN, known_bonus, np.where(test_classes != NORMAL, 1.0, 0.0))
    experiment = Experiment("digits", method, seed=seed, normal_class=NORMAL, ratio_known_anomaly=0.05,
                            known_anomaly_classes=(KNOWN,))
    record = {
        "record_version": 1, "key": experiment.key, "experiment": experiment.to_dict(),
        "metrics": {"auroc": float(roc_auc_score(truth, scores)), "auprc": 0.5, "f1": 0.5}, "threshold": 1.0,
        "sizes": {"train": 100, "test": len(indices)}, "known_anomaly_classes": [KNOWN],
        "seconds": {"data": 0.1, "train": 2.5, "test": 0.25},
    }
    store.add_result(record, ExperimentOutcome(scores, truth, indices))
    return scores, test_classes


def test_known_and_novel_classes_are_scored_apart(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    # "supervised": the known class far above everything; "deepsad": every anomaly class alike
    scores, classes = add_digits_run(store, "supervised", known_bonus=6.0)
    add_digits_run(store, "deepsad", known_bonus=1.0)
    add(store, dataset="digits", method="deepsvdd", normal_class=NORMAL, known=(), n_test=40)  # nothing known
    add(store, method="deepsad", ratio_known_anomaly=0.01)  # an outlier benchmark: one anomaly class
    frame = results_frame(store)
    aurocs = novelty_aurocs(frame, store, notify=pytest.fail)
    assert list(aurocs.columns) == ["auroc_known", "auroc_novel", *range(10)] and aurocs.index.equals(frame.index)

    normal, known = classes == NORMAL, classes == KNOWN
    novel = ~normal & ~known
    expected_known = roc_auc_score(known[normal | known], scores[normal | known])
    expected_novel = roc_auc_score(novel[normal | novel], scores[normal | novel])
    supervised = aurocs[frame["method"].eq("supervised").to_numpy()].iloc[0]
    assert supervised[["auroc_known", "auroc_novel"]].tolist() == pytest.approx([expected_known, expected_novel])
    assert supervised.auroc_known > 0.99 and 0.6 < supervised.auroc_novel < 0.9  # both parts of its 0.8-ish AUROC
    # each anomaly class alone: the known one is the known part; the normal class has none
    assert supervised[KNOWN] == supervised.auroc_known and np.isnan(supervised[NORMAL])
    seven = classes == 7
    assert supervised[7] == pytest.approx(roc_auc_score(seven[normal | seven], scores[normal | seven]))
    deepsad = aurocs[frame["method"].eq("deepsad") & frame["dataset"].eq("digits")].iloc[0]
    assert deepsad.auroc_known == pytest.approx(deepsad.auroc_novel, abs=0.1)
    assert aurocs[frame["known_anomaly_classes"].eq("") | frame["dataset"].eq("cardio")].isna().all().all()


def test_the_report_writes_novelty_md_and_the_records_carry_both(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add_digits_run(store, "supervised", known_bonus=6.0)
    add_digits_run(store, "supervised", known_bonus=6.0, seed=1)
    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False, notify=pytest.fail)
    records = pd.read_csv(tmp_path / "out" / "records.csv")
    assert records[["auroc_known", "auroc_novel"]].notna().all().all()
    text = (tmp_path / "out" / "novelty.md").read_text()
    known, novel = 100 * records.auroc_known, 100 * records.auroc_novel
    row = (f"| digits | supervised | 0.05 | {100 * records.auroc.mean():.1f} ± {100 * records.auroc.std():.1f} | "
           f"{known.mean():.1f} ± {known.std():.1f} | {novel.mean():.1f} ± {novel.std():.1f} | 2 |")
    assert row in text
    # each run's AUROC per anomaly class, the known class's in bold, no column for the normal class
    assert "| normal class | method | γl | seed | 0 | 1 | 2 | 4 | 5 | 6 | 7 | 8 | 9 |" in text
    per_run = [line for line in text.splitlines() if line.startswith("| 3 | supervised | 0.05 |")]
    assert [line.split(" | ")[3] for line in per_run] == ["0", "1"]
    assert all(line.split(" | ")[5].startswith("**") and line.count("**") == 2 for line in per_run)

    # the records alone report the same table, without the per-class one (no test scores); a
    # report without such runs drops a stale novelty.md
    write_report(tmp_path / "out" / "records.csv", tmp_path / "again", ["dataset", "method"], plots=False)
    again = (tmp_path / "again" / "novelty.md").read_text()
    assert again.split("## Each anomaly class")[0] == text.split("## Each anomaly class")[0]
    assert "needs the runs' test scores: report their results store" in again
    other = ResultsStore(tmp_path / "other.sqlite")
    add(other, ratio_known_anomaly=0.01)
    write_report(other.path, tmp_path / "out", ["dataset", "method"], plots=False)
    assert not (tmp_path / "out" / "novelty.md").exists()


def test_a_run_whose_truth_is_not_the_files_classes_is_left_out_and_named(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add_digits_run(store, "supervised", known_bonus=6.0, truth_of=lambda classes: (classes == 0).astype(int))
    notes = []
    aurocs = novelty_aurocs(results_frame(store), store, notify=notes.append)
    assert aurocs.isna().all().all()
    assert notes == ["left out the known- and novel-class AUROCs of 1 digits run(s): their stored test truth does "
                     "not match the classes of the digits files found (another copy of the data?)"]


def test_missing_files_leave_the_runs_out_and_say_so(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add(store, dataset="mnist", normal_class=0, known=(1,), n_test=40, ratio_known_anomaly=0.05)
    notes = []
    aurocs = novelty_aurocs(results_frame(store), store, data_root=tmp_path / "empty", notify=notes.append)
    assert aurocs.isna().all().all()
    assert len(notes) == 1 and notes[0].startswith("left out the known- and novel-class AUROCs of mnist:")
    assert "missing" in notes[0]


@pytest.mark.parametrize("cell, classes", [("1", (1,)), ("1,3", (1, 3)), ("", ()), (np.nan, ()), (None, ())])
def test_known_classes_of_a_frame_cell(cell, classes):
    assert known_classes(cell) == classes
