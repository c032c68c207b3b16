"""Reports from committed records files (the records.csv of an earlier report), alone and beside stores."""

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from deepsad.cli import main
from deepsad.experiments.record_files import NOVELTY_COLUMNS, RECORD_COLUMNS, is_records_file, read_records_file
from deepsad.experiments.report import DECISION_COLUMNS, FRAME_COLUMNS, results_frame, write_report
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore
from tests.experiments.test_report import add, odds_results


@pytest.fixture
def odds_store(tmp_path):
    return odds_results(tmp_path)


@pytest.fixture
def records_file(odds_store, tmp_path):
    """The records.csv of a report of odds_store (cardio deepsad 0.9/0.8, deepsvdd 0.7; thyroid 0.6)."""
    write_report(odds_store.path, tmp_path / "first", ["dataset", "method"], plots=False)
    return tmp_path / "first" / "records.csv"


def test_a_report_of_its_own_records_repeats_them_byte_for_byte(records_file, tmp_path):
    paths = write_report(records_file, tmp_path / "again", ["dataset", "method"])
    again = tmp_path / "again"
    assert (again / "records.csv").read_bytes() == records_file.read_bytes()
    assert (again / "summary.csv").read_bytes() == (records_file.parent / "summary.csv").read_bytes()
    assert (again / "decisions.md").read_text() == (records_file.parent / "decisions.md").read_text()
    # only the figures that need no test scores
    assert sorted(p.name for p in paths if p.parent.name == "figures") == ["auroc_vs_ratio_known_anomaly.png"]
    assert "4 successful experiments, 4 of them from records files." in (again / "summary.md").read_text()


def test_the_frame_is_typed_as_a_stores(odds_store, records_file):
    frame = read_records_file(records_file)
    from_store = results_frame(odds_store)
    assert list(frame.columns) == list(RECORD_COLUMNS) == [*FRAME_COLUMNS, *DECISION_COLUMNS, *NOVELTY_COLUMNS]
    pd.testing.assert_frame_equal(frame[list(FRAME_COLUMNS)], from_store, check_dtype=False)
    assert str(frame["normal_class"].dtype) == "Int64" and frame["normal_class"].isna().all()
    assert frame["known_anomaly_classes"].tolist() == ["1", "1", "", "1"]
    assert frame["seed"].dtype == "int64" and frame["params"].tolist() == ["{}"] * 4


def test_text_columns_stay_text(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add(store, dataset="digits", normal_class=3, known=(1, 2), ratio_known_anomaly=0.05)
    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False)
    text = (tmp_path / "out" / "records.csv").read_text()
    key = Experiment("digits", "deepsad", normal_class=3, ratio_known_anomaly=0.05).key
    digits_only = "0123456789012345"
    (tmp_path / "digits.csv").write_text(text.replace(key, digits_only))
    frame = read_records_file(tmp_path / "digits.csv")
    assert frame["key"].tolist() == [digits_only] and frame["known_anomaly_classes"].tolist() == ["1,2"]
    assert frame["normal_class"].tolist() == [3]


def test_a_store_comes_before_a_records_file_and_lends_its_scores(odds_store, records_file, tmp_path):
    newer = ResultsStore(tmp_path / "newer.sqlite")
    add(newer, auroc=0.5, seed=0, ratio_known_anomaly=0.01)  # the key of the file's cardio seed 0 (0.9)
    notes = []
    paths = write_report([records_file, newer.path], tmp_path / "both", ["dataset", "method"], notify=notes.append)
    records = pd.read_csv(tmp_path / "both" / "records.csv")
    assert records.auroc.tolist() == [0.5, 0.8, 0.7, 0.6]  # the store's run first, then the file's others
    figures = sorted(p.name for p in paths if p.parent.name == "figures")
    # ROC and calibration from the store's scores (cardio, γl = .01, its one setting); thyroid is only in the file
    assert figures == ["auroc_vs_ratio_known_anomaly.png", "false_alarm_calibration_cardio.png", "roc_cardio.png"]
    assert notes == ["3 run(s) from records files have no test scores: they are in the tables and the metric "
                     "figures, not in the ROC, calibration or image figures"]
    summary = (tmp_path / "both" / "summary.md").read_text()
    assert summary.startswith("# AUROC of records.csv + newer.sqlite")  # in the order given
    assert "4 successful experiments, 3 of them from records files." in summary


def test_the_first_records_file_holding_a_key_is_read(records_file, tmp_path):
    changed = tmp_path / "changed.csv"
    frame = pd.read_csv(records_file, dtype=str, keep_default_na=False)
    frame.loc[0, "auroc"] = "0.1"
    frame.iloc[[0]].to_csv(changed, index=False)
    write_report([changed, records_file], tmp_path / "out", ["dataset", "method"], plots=False)
    assert pd.read_csv(tmp_path / "out" / "records.csv").auroc.tolist() == [0.1, 0.8, 0.7, 0.6]
    write_report([records_file, changed], tmp_path / "out", ["dataset", "method"], plots=False)
    assert pd.read_csv(tmp_path / "out" / "records.csv").auroc.tolist() == [0.9, 0.8, 0.7, 0.6]


def test_a_failure_that_a_records_file_holds_as_a_success_is_not_listed(records_file, tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    done = Experiment("thyroid", "deepsad", ratio_known_anomaly=0.01)
    store.add_failure(done.key, done.to_dict(), "RuntimeError: out of memory")
    other = Experiment("thyroid", "deepsvdd")
    store.add_failure(other.key, other.to_dict(), "ValueError: boom")
    write_report([store.path, records_file], tmp_path / "out", ["dataset", "method"], plots=False)
    failures = (tmp_path / "out" / "failures.md").read_text()
    assert failures.startswith("# Failed experiments (1)") and "boom" in failures and "memory" not in failures


def test_chosen_keys_apply_to_records_files(records_file, tmp_path):
    chosen = Experiment("thyroid", "deepsad", ratio_known_anomaly=0.01).key
    write_report(records_file, tmp_path / "out", ["dataset", "method"], plots=False, only={chosen})
    assert pd.read_csv(tmp_path / "out" / "records.csv", dtype=str).key.tolist() == [chosen]
    with pytest.raises(ValueError, match=r"records file .*records.csv holds none of the 1 experiment\(s\)"):
        write_report(records_file, tmp_path / "none", plots=False, only={"0123456789abcdef"})


def test_older_records_without_thresholds_or_decisions_still_report(records_file, tmp_path):
    older = tmp_path / "older.csv"
    pd.read_csv(records_file, dtype=str, keep_default_na=False).drop(
        columns=["threshold", *DECISION_COLUMNS]).to_csv(older, index=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "decisions.md").write_text("stale")
    paths = write_report(older, tmp_path / "out", ["dataset", "method"], plots=False)
    assert "decisions.md" not in {p.name for p in paths} and not (tmp_path / "out" / "decisions.md").exists()
    records = pd.read_csv(tmp_path / "out" / "records.csv")
    assert records.threshold.isna().all() and records.auroc.tolist() == [0.9, 0.8, 0.7, 0.6]


def _broken(records_file, tmp_path, change) -> Path:
    frame = pd.read_csv(records_file, dtype=str, keep_default_na=False)
    frame = change(frame)
    path = tmp_path / "broken.csv"
    frame.to_csv(path, index=False)
    return path


def _cell(row: int, **values):
    """A change of the records' frame: ``values`` in its row ``row`` (file line row + 2)."""
    def change(frame):
        for column, value in values.items():
            frame.loc[row, column] = value
        return frame
    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns=["auroc", "method"]), r"lacks the column\(s\) \['method', 'auroc'\]"),
        (_cell(1, auroc="high"), r"line 3, column 'auroc': 'high' is not a number"),
        (_cell(1, auroc=""), r"line 3, column 'auroc' is empty"),
        (_cell(1, method=""), r"line 3, column 'method' is empty"),
        (_cell(1, auroc="inf"), r"line 3, column 'auroc': 'inf' is not a number from 0 to 1"),
        (_cell(1, auroc="1e400"), r"line 3, column 'auroc': '1e400' is not a number from 0 to 1"),
        (_cell(1, auroc="90"), r"line 3, column 'auroc': '90' is not a number from 0 to 1"),
        (_cell(1, auroc="nan"), r"line 3, column 'auroc': 'nan' is not a number from 0 to 1"),
        (_cell(1, ratio_known_anomaly="-0.5"), r"column 'ratio_known_anomaly': '-0.5' is not a number from 0 to 1"),
        (_cell(1, recall="101"), r"column 'recall': '101' is not a number from 0 to 100"),
        (_cell(1, train_seconds="-1"), r"column 'train_seconds': '-1' is not a number ≥ 0"),
        (_cell(1, threshold="inf"), r"column 'threshold': 'inf' is not a number finite"),
        (_cell(1, seed="1.5"), r"line 3, column 'seed': '1.5' is not a whole number"),
        (_cell(1, seed="1e20"), r"line 3, column 'seed': '1e20' is not a number from 0 to"),
        (_cell(1, seed="inf"), r"line 3, column 'seed': 'inf' is not a number from 0 to"),
        (_cell(1, normal_class="-1"), r"line 3, column 'normal_class': '-1' is not a number from 0 to"),
        (_cell(2, params="[1]"), r"line 4, column 'params': '\[1\]' is not a JSON object"),
        (_cell(2, params=""), r"line 4, column 'params' is empty"),
        (lambda f: f.assign(key=[f.key[0]] * 4), r"key '\w+' is given twice \(lines 2 and 3\)"),
        (_cell(1, key=" "), r"line 3, column 'key' is empty"),
        (lambda f: f.iloc[:0], r"holds no records"),
    ],
)
def test_a_malformed_records_file_is_refused_with_its_place(records_file, tmp_path, change, message):
    path = _broken(records_file, tmp_path, change)
    with pytest.raises(ValueError, match=message):
        write_report(path, tmp_path / "out", ["dataset", "method"])
    assert not (tmp_path / "out").exists()


def test_lines_are_the_files_own_and_a_cut_line_is_refused(records_file, tmp_path):
    lines = records_file.read_text().splitlines(keepends=True)
    spaced = tmp_path / "spaced.csv"
    # header, a blank line, cardio seed 0, a blank line, then cardio seed 1 with its AUROC (0.8) spoilt: line 5
    spaced.write_text("".join([lines[0], "\n", lines[1], "\n", lines[2].replace(",0.8,", ",x,", 1), *lines[3:]]))
    with pytest.raises(ValueError, match="spaced.csv, line 5, column 'auroc': 'x' is not a number"):
        read_records_file(spaced)
    cut = tmp_path / "cut.csv"
    cut.write_text(records_file.read_text()[:-40] + "\n")
    header = len(RECORD_COLUMNS)
    with pytest.raises(ValueError, match=rf"cut.csv, line 5: \d+ cells where the header has {header} \(a cut or damaged"):
        read_records_file(cut)


def test_a_file_cut_within_its_last_cell_is_refused(records_file, tmp_path):
    # as an older report wrote it, without the novelty columns (empty for ODDS runs)
    older = pd.read_csv(records_file, dtype=str, keep_default_na=False).drop(columns=list(NOVELTY_COLUMNS))
    records_file = tmp_path / "older.csv"
    records_file.write_text(older.to_csv(index=False))
    text = records_file.read_text()
    assert text.endswith("\n") and text.rstrip("\n")[-1].isdigit()  # the last cell is a number
    cut = tmp_path / "cut.csv"
    cut.write_text(text.rstrip("\n")[:-1])  # the last number loses a digit, its line break with it
    with pytest.raises(ValueError, match=r"cut.csv ends without a line break after its last line, so it may be cut"):
        read_records_file(cut)
    cut.write_text(text.rstrip("\n") + "\r")  # a lone carriage return ends a line too
    pd.testing.assert_frame_equal(read_records_file(cut), read_records_file(records_file))


def test_a_byte_order_mark_crlf_and_extra_or_reordered_columns_are_read(records_file, tmp_path):
    frame = pd.read_csv(records_file, dtype=str, keep_default_na=False)
    moved = frame[[*reversed(frame.columns)]].assign(note="from a spreadsheet")
    path = tmp_path / "spreadsheet.csv"
    path.write_bytes(b"\xef\xbb\xbf" + moved.to_csv(index=False, lineterminator="\r\n").encode())
    pd.testing.assert_frame_equal(read_records_file(path), read_records_file(records_file))


def test_params_are_made_canonical_and_keys_lose_their_spaces(records_file, tmp_path):
    frame = pd.read_csv(records_file, dtype=str, keep_default_na=False)
    frame.loc[0, "params"] = '{"eta": 1.0,  "epochs": 3}'
    frame.loc[0, "key"] = f" {frame.loc[0, 'key']} "
    path = tmp_path / "edited.csv"
    frame.to_csv(path, index=False)
    read = read_records_file(path)
    assert read.loc[0, "params"] == '{"epochs":3,"eta":1.0}' and read.loc[0, "key"] == frame.loc[0, "key"].strip()


def test_a_file_that_is_not_text_or_csv_is_refused(tmp_path):
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00key")
    with pytest.raises(ValueError, match="binary.csv is not a records file: it is not UTF-8 text"):
        read_records_file(tmp_path / "binary.csv")
    (tmp_path / "other.csv").write_text("name,age\nada,36\n")
    with pytest.raises(ValueError, match=r"other.csv is not a records file of 'deepsad report': it lacks the column"):
        read_records_file(tmp_path / "other.csv")
    (tmp_path / "empty.csv").touch()
    with pytest.raises(ValueError, match=r"empty.csv is empty, not a records file"):
        read_records_file(tmp_path / "empty.csv")
    (tmp_path / "huge-field.csv").write_text("x" * 200_000 + ",key\n")
    with pytest.raises(ValueError, match=r"huge-field.csv is not a readable records file: field larger"):
        read_records_file(tmp_path / "huge-field.csv")


def test_a_store_named_csv_is_read_as_a_store(odds_store, tmp_path):
    renamed = tmp_path / "results.CSV"
    renamed.write_bytes(odds_store.path.read_bytes())
    assert not is_records_file(renamed)
    write_report(renamed, tmp_path / "out", ["dataset", "method"])
    assert "roc_thyroid.png" in {p.name for p in (tmp_path / "out" / "figures").iterdir()}


def test_a_records_file_named_twice_is_refused_and_namesakes_are_told_apart(records_file, tmp_path):
    with pytest.raises(ValueError, match=r"records file\(s\) given twice"):
        write_report([records_file, records_file.parent / "." / records_file.name], tmp_path / "out")
    (tmp_path / "other").mkdir()
    namesake = tmp_path / "other" / "records.csv"
    namesake.write_text(records_file.read_text())
    write_report([records_file, namesake], tmp_path / "out", ["dataset", "method"], plots=False)
    assert f"# AUROC of {records_file} + {namesake}" in (tmp_path / "out" / "summary.md").read_text()


def test_a_bad_argument_is_found_before_the_scores_are_read(odds_store, records_file, tmp_path, monkeypatch):
    import deepsad.experiments.report as report

    def no_scores(*args):
        raise AssertionError("test scores read before the arguments were checked")

    monkeypatch.setattr(report, "decision_rates", no_scores)
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['typo'\]"):
        write_report(odds_store.path, tmp_path / "out", ["typo"])
    broken = _broken(records_file, tmp_path, _cell(0, auroc="x"))
    with pytest.raises(ValueError, match="'x' is not a number"):
        write_report([odds_store.path, broken], tmp_path / "out", ["dataset"])


def test_is_records_file_goes_by_the_suffix_and_the_content(tmp_path):
    assert is_records_file(tmp_path / "missing.csv") and is_records_file(tmp_path / "MISSING.CSV")
    assert not is_records_file("results.sqlite") and not is_records_file("results")


def test_cli_reports_records_files_and_refuses_a_broken_one_in_one_line(records_file, tmp_path):
    result = CliRunner().invoke(main, ["report", str(records_file), "--output-dir", str(tmp_path / "out"),
                                       "--group-by", "dataset,method", "--pivot", "method", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "| cardio | 85.0 ± 7.1 (n=2) | 70.0 ± – (n=1) |" in result.stdout
    broken = _broken(records_file, tmp_path, lambda f: f.assign(auroc=["x"] * 4))
    result = CliRunner().invoke(main, ["report", str(broken), "--output-dir", str(tmp_path / "bad")])
    assert result.exit_code != 0 and "'x' is not a number" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
