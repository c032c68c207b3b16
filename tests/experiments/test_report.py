import sqlite3
from contextlib import closing

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from deepsad.cli import main
from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.report import FRAME_COLUMNS, results_frame, summary_table, write_report
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def add(store, dataset="cardio", method="deepsad", seed=0, auroc=0.9, normal_class=None, known=(1,),
        n_test=20, params=None, **settings):
    """Store a hand-made record whose outcome has n_test scores, the last quarter anomalous."""
    experiment = Experiment(dataset, method, seed=seed, normal_class=normal_class, params=params or {}, **settings)
    truth = (np.arange(n_test) >= 3 * n_test // 4).astype(int)
    scores = truth + np.random.default_rng(seed).normal(0, 0.8, n_test)
    record = {
        "record_version": 1, "key": experiment.key, "experiment": experiment.to_dict(),
        "metrics": {"auroc": auroc, "auprc": auroc / 2, "f1": 0.5}, "threshold": 1.0,
        "sizes": {"train": 100, "test": n_test}, "known_anomaly_classes": list(known),
        "seconds": {"data": 0.1, "train": 2.5, "test": 0.25},
    }
    store.add_result(record, ExperimentOutcome(scores, truth, np.arange(n_test) * 3))
    return experiment


@pytest.fixture
def odds_store(tmp_path):
    return odds_results(tmp_path)


def odds_results(tmp_path):
    """cardio: deepsad 0.9 / 0.8 on seeds 0, 1, deepsvdd 0.7; thyroid: deepsad 0.6."""
    store = ResultsStore(tmp_path / "results.sqlite")
    add(store, auroc=0.9, seed=0, ratio_known_anomaly=0.01)
    add(store, auroc=0.8, seed=1, ratio_known_anomaly=0.01)
    add(store, method="deepsvdd", auroc=0.7, known=())
    add(store, dataset="thyroid", auroc=0.6, ratio_known_anomaly=0.01)
    return store


def test_frame_has_one_flat_row_per_experiment(odds_store):
    frame = results_frame(odds_store)
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == 4
    first = frame.iloc[0]
    assert (first.dataset, first.method, first.seed, first.auroc, first.auprc) == ("cardio", "deepsad", 0, 0.9, 0.45)
    assert (first.ratio_known_anomaly, first.train_seconds, first.test_seconds, first.n_train, first.n_test) == (
        0.01, 2.5, 0.25, 100, 20)
    assert first.known_anomaly_classes == "1" and frame.iloc[2].known_anomaly_classes == ""
    assert pd.isna(first.normal_class)
    assert first.params == "{}" and first.key == Experiment("cardio", "deepsad", ratio_known_anomaly=0.01).key


def test_params_are_canonical_json(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add(store, params={"eta": 2.0, "epochs": 3})
    assert results_frame(store).params[0] == '{"epochs":3,"eta":2.0}'


def test_mean_std_n_in_percent(odds_store):
    summary = summary_table(results_frame(odds_store), ["dataset", "normal_class", "method"])
    table = summary.table
    assert list(table.columns) == ["dataset", "method", "mean", "std", "n"]
    assert summary.dropped == ("normal_class",)
    cardio = table[(table.dataset == "cardio") & (table.method == "deepsad")].iloc[0]
    assert cardio["mean"] == pytest.approx(85.0) and cardio["std"] == pytest.approx(7.0711, abs=1e-4)
    assert cardio["n"] == 2
    assert table[table.method == "deepsvdd"]["std"].isna().all()
    markdown = summary.to_markdown()
    assert "| cardio | deepsad | 85.0 ± 7.1 | 2 |" in markdown
    assert "| cardio | deepsvdd | 70.0 ± – | 1 |" in markdown
    assert "left out: normal_class" in markdown
    assert "Pooled within each group: seed (2 values).\n" in markdown
    by_dataset = summary_table(results_frame(odds_store), ["dataset"])
    assert by_dataset.pooled == (("method", 2), ("seed", 2), ("known_anomaly_classes", 2), ("ratio_known_anomaly", 2))
    assert by_dataset.table["mean"].tolist() == pytest.approx([80.0, 60.0])


def test_pivot_puts_methods_in_columns(odds_store):
    summary = summary_table(results_frame(odds_store), ["dataset", "method"], pivot="method")
    table = summary.table
    assert summary.columns == ("deepsad", "deepsvdd")
    assert list(table.columns) == ["dataset", "deepsad mean", "deepsad std", "deepsad n",
                                   "deepsvdd mean", "deepsvdd std", "deepsvdd n"]
    assert table.dataset.tolist() == ["cardio", "thyroid"]
    assert table["deepsad mean"].tolist() == pytest.approx([85.0, 60.0])
    assert table["deepsvdd n"].tolist() == [1, 0]
    markdown = summary.to_markdown()
    assert "| dataset | deepsad | deepsvdd |" in markdown
    # n differs between cells, so each cell shows it; thyroid has no deepsvdd run
    assert "| cardio | 85.0 ± 7.1 (n=2) | 70.0 ± – (n=1) |" in markdown
    assert "| thyroid | 60.0 ± – (n=1) |  |" in markdown


def test_other_metrics_and_bad_arguments(odds_store):
    frame = results_frame(odds_store)
    auprc = summary_table(frame, ["dataset", "method"], metric="auprc").table
    assert auprc["mean"].tolist()[0] == pytest.approx(42.5)
    with pytest.raises(ValueError, match="metric must be one of"):
        summary_table(frame, ["dataset"], metric="accuracy")
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['datset'\]"):
        summary_table(frame, ["datset"])
    with pytest.raises(ValueError, match="at least one column that is not empty"):
        summary_table(frame, ["normal_class"])
    with pytest.raises(ValueError, match="pivot column 'normal_class' is empty for every experiment"):
        summary_table(frame, ["dataset"], pivot="normal_class")
    with pytest.raises(ValueError, match="pivot 'method' needs another group column"):
        summary_table(frame, ["method"], pivot="method")


def test_write_report_files_round_trip(odds_store, tmp_path):
    odds_store.add_failure("bad", {"dataset": "cardio", "method": "ocsvm"}, "ValueError: boom\nTraceback ...")
    paths = write_report(odds_store.path, tmp_path / "out", ["dataset", "method"], plots=False)
    # γl varies on cardio (0 for deepsvdd, .01 for deepsad): a scenario table
    assert sorted(p.name for p in paths) == ["decisions.md", "failures.md", "records.csv", "scenarios.md", "summary.csv",
                                             "summary.md"]
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary[["dataset", "method", "n"]].values.tolist() == [
        ["cardio", "deepsad", 2], ["cardio", "deepsvdd", 1], ["thyroid", "deepsad", 1]]
    assert summary["mean"].tolist() == pytest.approx([85.0, 70.0, 60.0])
    assert summary["std"].isna().tolist() == [False, True, True]
    records = pd.read_csv(tmp_path / "out" / "records.csv")
    assert records.auroc.tolist() == [0.9, 0.8, 0.7, 0.6]
    assert "85.0 ± 7.1" in (tmp_path / "out" / "summary.md").read_text()
    failures = (tmp_path / "out" / "failures.md").read_text()
    assert failures.splitlines()[0] == "# Failed experiments (1)"
    assert "- cardio ocsvm γl=0 γp=0 seed=0: ValueError: boom\n" in failures and "Traceback" not in failures


def test_decisions_keep_runs_of_other_scenario_settings_apart(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    add(store, seed=0, ratio_known_anomaly=0.05)
    add(store, seed=0, ratio_known_anomaly=0.05, ratio_pollution=0.1)
    write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False)
    text = (tmp_path / "out" / "decisions.md").read_text()
    assert "Every run here has known normals = 0, γl = 0.05, kl = 1." in text
    assert "| dataset | method | γp | false-alarm rate |" in text
    assert "| cardio | deepsad | 0 | " in text and "| cardio | deepsad | 0.1 | " in text


def test_decisions_are_the_realised_rates_of_each_runs_threshold(odds_store, tmp_path):
    write_report(odds_store.path, tmp_path / "out", ["dataset", "method"], plots=False)
    text = (tmp_path / "out" / "decisions.md").read_text()
    # add(): 20 test scores = truth + N(0, 0.8) noise of the seed, the last 5 anomalous; threshold 1.0
    truth = (np.arange(20) >= 15).astype(int)
    rates = []
    for seed in (0, 1):
        flagged = truth + np.random.default_rng(seed).normal(0, 0.8, 20) > 1.0
        rates.append((100 * flagged[truth == 0].mean(), 100 * flagged[truth == 1].mean()))
    far, recall = np.mean(rates, axis=0)
    assert f"| cardio | deepsad | 0.01 | {far:.1f} ± " in text and f" | {recall:.1f} ± " in text
    # each run's rates are in records.csv, so committed records back the table
    records = pd.read_csv(tmp_path / "out" / "records.csv")
    cardio = records[(records.dataset == "cardio") & (records.method == "deepsad")]
    assert cardio[["false_alarm_rate", "recall"]].to_numpy() == pytest.approx(np.array(rates))
    assert list(records.columns[-6:]) == ["false_alarm_rate", "recall", "conformal_false_alarm_rate",
                                          "conformal_recall", "auroc_known", "auroc_novel"]
    assert "| thyroid | deepsad | 0.01 |" in text
    # the conformal columns: calibrated on a half of each run's test scores, measured on the other
    from deepsad.decisions.conformal import split_conformal_rates

    conformal = [split_conformal_rates(truth + np.random.default_rng(seed).normal(0, 0.8, 20), truth, [0.05])
                 for seed in (0, 1)]
    conformal_far = 100 * np.mean([far for (far,), _ in conformal])
    assert cardio.conformal_false_alarm_rate.mean() == pytest.approx(conformal_far)
    row = next(line for line in text.splitlines() if line.startswith("| cardio | deepsad |"))
    assert row.split(" | ")[5].startswith(f"{conformal_far:.1f} ± ")
    assert "conformal α = 0.05: false-alarm rate" in text


def test_figures_are_pngs(odds_store, tmp_path):
    paths = write_report(odds_store.path, tmp_path / "out", ["dataset", "method"])
    figures = {p.name: p.read_bytes() for p in paths if p.parent.name == "figures"}
    # γl takes two values (0 for deepsvdd, 0.01 for deepsad); γp and kl take one
    assert set(figures) == {"auroc_vs_ratio_known_anomaly.png", "roc_cardio__ratio_known_anomaly=0.png",
                            "roc_cardio__ratio_known_anomaly=0.01.png", "roc_thyroid.png",
                            "false_alarm_calibration_cardio.png", "false_alarm_calibration_thyroid.png"}
    assert all(png.startswith(PNG_SIGNATURE) and len(png) > 1000 for png in figures.values())


def test_image_grids_for_digits_and_skipped_without_mnist_files(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add(store, dataset="digits", normal_class=3, known=(1,), n_test=40, ratio_known_anomaly=0.05)
    add(store, dataset="digits", normal_class=3, seed=1, known=(2,), n_test=40, ratio_known_anomaly=0.05)
    add(store, dataset="mnist", normal_class=0, known=(1,), n_test=40, ratio_known_anomaly=0.05)
    notes = []
    paths = write_report(store.path, tmp_path / "out", ["dataset", "method"], data_root=tmp_path / "empty",
                         notify=notes.append)
    names = {p.name for p in paths}
    assert "images_digits_class3_deepsad.png" in names
    assert not any(name.startswith("images_mnist") for name in names)
    # add()'s made-up truth is not the digits' classes; the MNIST files are missing
    assert len(notes) == 3
    assert notes[0].startswith("left out the known- and novel-class AUROCs of 2 digits run(s): their stored test "
                               "truth does not match the classes of the digits files found")
    assert notes[1].startswith("left out the known- and novel-class AUROCs of mnist") and "missing" in notes[1]
    assert notes[2].startswith("skipped the image grids of mnist") and "--data-root" in notes[2]
    assert "--download" not in notes[2]
    grid = (tmp_path / "out" / "figures" / "images_digits_class3_deepsad.png").read_bytes()
    assert grid.startswith(PNG_SIGNATURE)
    assert "roc_digits.png" in names and "roc_mnist.png" in names


def test_write_report_refuses_missing_and_empty_stores(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_report(tmp_path / "none.sqlite", tmp_path / "out")
    assert not (tmp_path / "none.sqlite").exists()
    store = ResultsStore(tmp_path / "empty.sqlite")
    with pytest.raises(ValueError, match="no successful experiments$"):
        write_report(store.path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    store.add_failure("k", {"dataset": "cardio"}, "OSError: no file")
    with pytest.raises(ValueError, match=r"1 failed \(listed in .*failures.md\), e.g. OSError: no file"):
        write_report(store.path, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["failures.md"]  # what failed is still readable
    assert "OSError: no file" in (tmp_path / "out" / "failures.md").read_text()


def people_database(path):
    """Another application's SQLite database."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE people (name TEXT)")
        db.execute("INSERT INTO people VALUES ('ada')")


@pytest.mark.parametrize("content", ["zero bytes", "another database"])
def test_write_report_refuses_a_file_that_is_not_a_store_and_leaves_it_unchanged(tmp_path, content):
    path = tmp_path / "results.sqlite"
    path.touch() if content == "zero bytes" else people_database(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="results.sqlite is (an SQLite database but )?not a deepsad results store"):
        write_report(path, tmp_path / "out")
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]


def test_write_report_changes_no_byte_of_the_store(odds_store, tmp_path):
    with closing(sqlite3.connect(odds_store.path)) as db:
        db.execute("PRAGMA journal_mode = DELETE")  # so a switch to WAL would show in the header
    before = odds_store.path.read_bytes()
    write_report(odds_store.path, tmp_path / "out", ["dataset", "method"])
    assert odds_store.path.read_bytes() == before and before[18:20] == b"\x01\x01"


def test_write_report_of_a_damaged_store_names_the_problem(odds_store, tmp_path):
    with closing(sqlite3.connect(odds_store.path)) as db, db:
        db.execute("UPDATE experiments SET outcome = x'00' WHERE rowid = 1")
    with pytest.raises(ValueError, match="results.sqlite is damaged: the test outcome of experiment '.*' cannot be read"):
        write_report(odds_store.path, tmp_path / "out", ["dataset", "method"])
    assert not (tmp_path / "out").exists()


def test_cli_prints_the_summary_and_lists_files(odds_store, tmp_path):
    output = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", str(odds_store.path), "--output-dir", str(output),
                                       "--group-by", "dataset,method", "--pivot", "method", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "| cardio | 85.0 ± 7.1 (n=2) | 70.0 ± – (n=1) |" in result.stdout
    assert str(output / "summary.csv") in result.output
    assert {p.name for p in output.iterdir()} == {"summary.md", "summary.csv", "records.csv", "scenarios.md",
                                                  "decisions.md"}


def test_cli_defaults_drop_the_empty_normal_class(odds_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["report", str(odds_store.path), "--metric", "auprc", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "| cardio | deepsad | 42.5 ± 3.5 | 2 |" in result.stdout
    assert (tmp_path / "report" / "summary.md").is_file()


def test_cli_help_names_every_option_with_its_default():
    result = CliRunner().invoke(main, ["report", "--help"])
    assert result.exit_code == 0
    output = " ".join(result.output.split())
    for text in ("--output-dir", "[default: report]", "--group-by", "[default: dataset,normal_class,method]",
                 "--metric", "[default: auroc]", "--pivot", "--plots / --no-plots", "[default: plots]",
                 "--data-root", "DEEPSAD_DATA"):
        assert text in output


@pytest.mark.parametrize(
    "args, message",
    [
        (["{tmp}/missing.sqlite"], "does not exist"),
        (["{empty}"], "holds no successful experiments"),
        (["{store}", "--metric", "accuracy"], "'accuracy' is not one of"),
        (["{store}", "--group-by", "dataset,colour"], "unknown column(s) ['colour']"),
        (["{store}", "--pivot", "colour"], "unknown column(s) ['colour']"),
        (["{tmp}/not-a-store.sqlite"], "not a deepsad results store"),
        (["{tmp}/zero-bytes.sqlite"], "not a deepsad results store (an empty file)"),
        (["{tmp}/people.sqlite"], "is an SQLite database but not a deepsad results store"),
        (["{tmp}/damaged.sqlite"], "damaged.sqlite is damaged: the record of experiment"),
    ],
)
def test_cli_errors_are_messages_not_tracebacks(odds_store, tmp_path, args, message):
    ResultsStore(tmp_path / "empty.sqlite")
    (tmp_path / "not-a-store.sqlite").write_text("a,b\n")
    (tmp_path / "zero-bytes.sqlite").touch()
    people_database(tmp_path / "people.sqlite")
    add(ResultsStore(tmp_path / "damaged.sqlite"))
    with closing(sqlite3.connect(tmp_path / "damaged.sqlite")) as db, db:
        db.execute("UPDATE experiments SET record = '{\"key\": '")
    args = [a.format(tmp=tmp_path, empty=tmp_path / "empty.sqlite", store=odds_store.path) for a in args]
    result = CliRunner().invoke(main, ["report", *args, "--output-dir", str(tmp_path / "out"), "--no-plots"])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


def test_line_labels_name_only_the_parameters_that_differ_within_a_dataset():
    import pandas as pd

    from deepsad.experiments.scenarios import line_labels as _line_labels

    frame = pd.DataFrame({
        "dataset": ["cardio", "thyroid", "thyroid", "thyroid"],
        "method": ["deepsad", "deepsad", "deepsad", "deepsvdd"],
        "params": ['{"eta": 1.0, "rep_dim": 8}', '{"eta": 1.0, "rep_dim": 4}', '{"eta": 10.0, "rep_dim": 4}', "{}"],
    })
    assert _line_labels(frame).tolist() == ["deepsad", "deepsad eta=1.0", "deepsad eta=10.0", "deepsvdd"]
    # a selection protocol or a preprocessing that varies keeps its runs apart too
    frame = pd.DataFrame({
        "dataset": ["cardio"] * 3, "method": ["ocsvm"] * 3, "params": ["{}"] * 3,
        "selection": ["paper", "honest", None], "preprocessing": [None] * 3,
    })
    assert _line_labels(frame).tolist() == ["ocsvm selection=paper", "ocsvm selection=honest", "ocsvm selection=none"]


def test_a_reused_output_folder_loses_the_figures_this_report_did_not_draw_and_repeats_are_noted(odds_store, tmp_path):
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "auroc_vs_other_store.png").write_bytes(b"stale")
    notes = []
    paths = write_report(odds_store.path, out, ["dataset", "method"], notify=notes.append)
    assert not (out / "figures" / "auroc_vs_other_store.png").exists()
    assert {p.name for p in (out / "figures").glob("*.png")} == {p.name for p in paths if p.parent.name == "figures"}
    write_report(odds_store.path, out, ["dataset", "method"], plots=False)
    assert not list((out / "figures").glob("*.png"))
    assert not notes
    add(odds_store, auroc=0.5, seed=0, ratio_known_anomaly=0.01, params={"epochs": 3})
    frame = results_frame(odds_store)
    frame.loc[frame.index[-1], "params"] = frame.loc[frame.index[0], "params"]  # another key, the same settings
    from deepsad.experiments.report import _repeated_definitions

    assert _repeated_definitions(frame) == 1


def test_outcome_heatmaps_round_trip_and_are_checked():
    heatmaps = np.random.default_rng(0).random((2, 8, 8))
    outcome = ExperimentOutcome(np.arange(5.0), np.r_[0, 0, 0, 1, 1], np.arange(5), heatmaps=heatmaps,
                                heatmap_positions=np.array([4, 3]), heatmap_kind="integrated gradients")
    again = ExperimentOutcome.from_bytes(outcome.to_bytes())
    np.testing.assert_allclose(again.heatmaps, heatmaps, rtol=1e-6)
    assert again.heatmap_positions.tolist() == [4, 3] and again.heatmap_kind == "integrated gradients"
    assert ExperimentOutcome.from_bytes(ExperimentOutcome(np.arange(3.0), np.zeros(3), np.arange(3)).to_bytes()).heatmaps is None
    wrong = ExperimentOutcome(np.arange(5.0), np.zeros(5), np.arange(5), heatmaps=heatmaps,
                              heatmap_positions=np.array([4, 9]), heatmap_kind="FCDD heatmap")
    with pytest.raises(ValueError, match="heatmaps do not match its test samples"):
        ExperimentOutcome.from_bytes(wrong.to_bytes())


def test_a_heatmap_gallery_is_drawn_where_the_outcome_has_heatmaps(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    experiment = Experiment("digits", "fcdd", normal_class=3, ratio_known_anomaly=0.05)
    truth = (np.arange(40) >= 30).astype(int)
    scores = truth + np.random.default_rng(0).normal(0, 0.5, 40)
    positions = np.argsort(-scores)[:8]
    record = {"record_version": 1, "key": experiment.key, "experiment": experiment.to_dict(),
              "metrics": {"auroc": 0.9, "auprc": 0.5, "f1": 0.5}, "threshold": 1.0,
              "sizes": {"train": 100, "test": 40}, "known_anomaly_classes": [1],
              "seconds": {"data": 0.1, "train": 2.5, "test": 0.25}}
    store.add_result(record, ExperimentOutcome(scores, truth, np.arange(40) * 3,
                                               heatmaps=np.random.default_rng(1).random((8, 8, 8)),
                                               heatmap_positions=positions, heatmap_kind="FCDD heatmap"))
    paths = write_report(store.path, tmp_path / "out", ["dataset", "method"])
    names = {p.name for p in paths}
    assert "heatmaps_digits_class3_fcdd.png" in names and "images_digits_class3_fcdd.png" in names
    assert (tmp_path / "out" / "figures" / "heatmaps_digits_class3_fcdd.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_damaged_heatmap_kind_is_a_damage_not_a_traceback():
    import io

    outcome = ExperimentOutcome(np.arange(3.0), np.zeros(3), np.arange(3), heatmaps=np.zeros((1, 2, 2)),
                                heatmap_positions=np.array([0]), heatmap_kind="FCDD heatmap")
    with np.load(io.BytesIO(outcome.to_bytes())) as arrays:
        values = dict(arrays)
    values["heatmap_kind"] = np.array(7, dtype=np.int8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **values)
    with pytest.raises(ValueError, match="heatmap kind 7 is not one of"):
        ExperimentOutcome.from_bytes(buffer.getvalue())


def test_a_report_of_chosen_keys_reads_only_them(odds_store, tmp_path):
    chosen = Experiment("thyroid", "deepsad", ratio_known_anomaly=0.01).key
    failed = Experiment("thyroid", "deepsvdd")
    odds_store.add_failure(failed.key, failed.to_dict(), "ValueError: boom")
    # A record of another grid that this deepsad cannot read (a newer version's) is not read at all.
    future = Experiment("cardio", "deepsad", seed=7)
    add(odds_store, seed=7)
    with closing(sqlite3.connect(odds_store.path)) as db, db:
        db.execute("UPDATE experiments SET record = ? WHERE key = ?",
                   ('{"key": "x", "experiment": {"method": "from-the-future"}, "metrics": {}, '
                    '"environment": {"deepsad": "99.0"}}', future.key))
    with pytest.raises(ValueError, match="written by deepsad 99.0"):
        write_report(odds_store.path, tmp_path / "all", group_by=["dataset", "method"], plots=False)
    write_report(odds_store.path, tmp_path / "chosen", group_by=["dataset", "method"], plots=False,
                 only={chosen, failed.key})
    records = pd.read_csv(tmp_path / "chosen" / "records.csv")
    assert records.key.tolist() == [chosen]
    assert "thyroid" in (tmp_path / "chosen" / "failures.md").read_text()
    with pytest.raises(ValueError, match=r"no successful experiments among the 1 experiment\(s\) to report; 1 failed"):
        write_report(odds_store.path, tmp_path / "failed", plots=False, only={failed.key})
    with pytest.raises(ValueError, match=r"holds none of the 2 experiment\(s\) to report"):
        write_report(odds_store.path, tmp_path / "none", plots=False, only={"0123456789abcdef", "fedcba9876543210"})
