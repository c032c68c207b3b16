import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from deepsad.data.datasets import load_dataset
from deepsad.experiments.novelty import known_classes, novelty_aurocs, novelty_markdown, novelty_table
from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.record_files import read_records_file
from deepsad.experiments.report import results_frame, write_report
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore
from tests.experiments.test_report import add

NORMAL, KNOWN = 3, 1


def add_digits_run(store, method, known_bonus, seed=0, truth_of=None, known=(KNOWN,), **settings):
    """A digits run (normal class 3, labeled anomalies from ``known``, by default class 1) over the
    first 600 rows, which its outcome's indices point into: noise scores, plus ``known_bonus``
    for anomalies of the known classes and 1 for the other anomalies. A known class that is not
    an anomaly class of digits goes into the record only (the experiment drew its classes)."""
    classes = load_dataset("digits").y
    indices = np.arange(600)
    test_classes = classes[indices]
    truth = (test_classes != NORMAL).astype(int) if truth_of is None else truth_of(test_classes)
    scores = np.random.default_rng(seed).normal(0, 1, len(indices))
    scores += np.where(np.isin(test_classes, known), known_bonus, np.where(test_classes != NORMAL, 1.0, 0.0))
    valid = all(0 <= c <= 9 and c != NORMAL for c in known)
    experiment = Experiment("digits", method, seed=seed, normal_class=NORMAL, ratio_known_anomaly=0.05,
                            known_anomaly_classes=tuple(known) if valid else None, n_known_classes=len(known),
                            **settings)
    record = {
        "record_version": 1, "key": experiment.key, "experiment": experiment.to_dict(),
        "metrics": {"auroc": float(roc_auc_score(truth, scores)), "auprc": 0.5, "f1": 0.5}, "threshold": 1.0,
        "sizes": {"train": 100, "test": len(indices)}, "known_anomaly_classes": list(known),
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


def table_rows(text: str, start: str) -> list[list[str]]:
    """The cells of the markdown table rows of ``text`` that start with ``start``."""
    return [line.strip("| ").split(" | ") for line in text.splitlines() if line.startswith(start)]


def test_the_report_writes_novelty_md_and_the_records_carry_both(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add_digits_run(store, "supervised", known_bonus=6.0)
    add_digits_run(store, "supervised", known_bonus=6.0, seed=1)
    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False, notify=pytest.fail)
    records = pd.read_csv(tmp_path / "out" / "records.csv")
    assert records[["auroc_known", "auroc_novel"]].notna().all().all()
    text = (tmp_path / "out" / "novelty.md").read_text()
    known, novel = 100 * records.auroc_known, 100 * records.auroc_novel
    # no setting varies: none is a column, all are named once above the tables
    assert "| dataset | method | AUROC | AUROC known | AUROC novel | runs |" in text
    assert "Every run here has known normals = 0, γl = 0.05, γp = 0, kl = 1." in text
    row = (f"| digits | supervised | {100 * records.auroc.mean():.1f} ± {100 * records.auroc.std():.1f} | "
           f"{known.mean():.1f} ± {known.std():.1f} | {novel.mean():.1f} ± {novel.std():.1f} | 2 |")
    assert row in text
    # each run's AUROC per anomaly class, the known class's in bold, no column for the normal class
    assert "| normal class | method | seed | 0 | 1 | 2 | 4 | 5 | 6 | 7 | 8 | 9 |" in text
    per_run = table_rows(text, "| 3 | supervised |")
    assert [cells[2] for cells in per_run] == ["0", "1"]
    assert all(cells[4].startswith("**") and "|".join(cells).count("**") == 2 for cells in per_run)

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


def test_runs_that_differ_in_a_setting_are_kept_apart_and_the_setting_shown(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add_digits_run(store, "supervised", known_bonus=6.0)
    add_digits_run(store, "supervised", known_bonus=6.0, ratio_pollution=0.1)  # only γp differs
    add_digits_run(store, "supervised", known_bonus=6.0, known=(KNOWN, 7))  # only kl (and its classes) differ
    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False, notify=pytest.fail)
    records = pd.read_csv(tmp_path / "out" / "records.csv")
    text = (tmp_path / "out" / "novelty.md").read_text()
    assert "| dataset | method | γp | kl | AUROC | AUROC known | AUROC novel | runs |" in text
    assert "Every run here has known normals = 0, γl = 0.05." in text
    rows = table_rows(text, "| digits | supervised |")
    assert [(cells[2], cells[3], cells[-1]) for cells in rows] == [("0", "1", "1"), ("0", "2", "1"), ("0.1", "1", "1")]
    for cells in rows:  # each row is its one run's, no mean over runs of other settings
        run = records[records.ratio_pollution.eq(float(cells[2])) & records.n_known_classes.eq(int(cells[3]))]
        assert cells[4:7] == [f"{100 * run[c].iloc[0]:.1f} ± –" for c in ("auroc", "auroc_known", "auroc_novel")]
    per_run = table_rows(text, "| 3 | supervised |")
    assert [(cells[2], cells[3]) for cells in per_run] == [("0", "1"), ("0", "2"), ("0.1", "1")]


def test_two_known_classes_are_scored_together_and_both_in_bold(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    scores, classes = add_digits_run(store, "supervised", known_bonus=6.0, known=(KNOWN, 7))
    frame = results_frame(store)
    aurocs = novelty_aurocs(frame, store, notify=pytest.fail)
    normal, known = classes == NORMAL, np.isin(classes, (KNOWN, 7))
    novel = ~normal & ~known
    assert aurocs.loc[0, ["auroc_known", "auroc_novel"]].tolist() == pytest.approx([
        roc_auc_score(known[normal | known], scores[normal | known]),
        roc_auc_score(novel[normal | novel], scores[normal | novel])])
    assert aurocs.loc[0, "auroc_known"] > 0.99 > 0.9 > aurocs.loc[0, "auroc_novel"]

    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False, notify=pytest.fail)
    text = (tmp_path / "out" / "novelty.md").read_text()
    (cells,) = table_rows(text, "| 3 | supervised |")
    bold = [c for c, cell in zip((0, 1, 2, 4, 5, 6, 7, 8, 9), cells[3:]) if cell.startswith("**")]
    assert bold == [KNOWN, 7]


def test_every_anomaly_class_known_keeps_the_run_without_a_novel_auroc(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add_digits_run(store, "deepsad", known_bonus=1.0, known=(0, 1, 2, 4, 5, 6, 7, 8, 9))
    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False, notify=pytest.fail)
    records = pd.read_csv(tmp_path / "out" / "records.csv")
    assert records.auroc_known.notna().all() and records.auroc_novel.isna().all()
    text = (tmp_path / "out" / "novelty.md").read_text()
    (cells,) = table_rows(text, "| digits | deepsad |")
    assert cells[2:] == [f"{100 * records.auroc[0]:.1f} ± –", f"{100 * records.auroc_known[0]:.1f} ± –", "–", "1"]
    (per_run,) = table_rows(text, "| 3 | deepsad |")
    assert all(cell.startswith("**") for cell in per_run[3:])
    # in a group where only some runs have a novel class, the number of those is shown
    records = read_records_file(tmp_path / "out" / "records.csv")
    table = novelty_table(pd.concat([records, records.assign(auroc_novel=0.5, seed=1)], ignore_index=True))
    assert table[["auroc_novel n", "runs"]].values.tolist() == [[1, 2]]
    assert novelty_markdown(table).count("| 50.0 ± – (n=1) | 2 |") == 1


def test_methods_that_ignore_labels_are_left_out(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add_digits_run(store, "supervised", known_bonus=6.0)
    add_digits_run(store, "deepsvdd", known_bonus=1.0)  # its scenario drew labeled anomalies; it never saw them
    frame = results_frame(store)
    aurocs = novelty_aurocs(frame, store, notify=pytest.fail)
    assert aurocs[frame["method"].eq("deepsvdd").to_numpy()].isna().all().all()
    assert aurocs[frame["method"].eq("supervised").to_numpy()][["auroc_known", "auroc_novel"]].notna().all().all()

    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False, notify=pytest.fail)
    text = (tmp_path / "out" / "novelty.md").read_text()
    assert "| deepsvdd |" not in text and len(table_rows(text, "| digits | supervised |")) == 1
    assert "Methods that ignore labels are left out" in text and "deepsvdd" in text
    # records of a report that still split them are left out too
    split = read_records_file(tmp_path / "out" / "records.csv").assign(auroc_known=0.7, auroc_novel=0.6)
    assert novelty_table(split)["method"].tolist() == ["supervised"]


@pytest.mark.parametrize("known", [(12,), (-1,), (NORMAL,), (KNOWN, 10)])
def test_a_known_class_that_is_no_anomaly_class_leaves_the_run_out_and_says_so(tmp_path, known):
    store = ResultsStore(tmp_path / "r.sqlite")
    add_digits_run(store, "supervised", known_bonus=6.0, known=known)
    add_digits_run(store, "supervised", known_bonus=6.0, seed=1)
    notes = []
    frame = results_frame(store)
    aurocs = novelty_aurocs(frame, store, notify=notes.append)
    wrong = frame["seed"].eq(0).to_numpy()
    assert aurocs[wrong].isna().all().all() and aurocs[~wrong][["auroc_known", "auroc_novel"]].notna().all().all()
    outside = ", ".join(str(c) for c in known if c != KNOWN)
    assert notes == [f"left out the known- and novel-class AUROCs of 1 digits run(s): their known anomaly class(es) "
                     f"{outside} are not anomaly classes of digits (0–9, other than the run's normal class)"]


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
    # what is missing, and how the report gets it: it has no --download
    assert f"MNIST/raw/t10k-labels-idx1-ubyte.gz missing under {tmp_path / 'empty'}," in notes[0]
    assert "--data-root" in notes[0] and "--download" not in notes[0]


@pytest.mark.parametrize("cell, classes", [("1", (1,)), ("1,3", (1, 3)), ("", ()), (np.nan, ()), (None, ())])
def test_known_classes_of_a_frame_cell(cell, classes):
    assert known_classes(cell) == classes


def test_a_known_classes_cell_that_is_not_class_numbers_is_refused():
    with pytest.raises(ValueError, match="known_anomaly_classes must be class numbers separated by commas"):
        known_classes("1,x")
