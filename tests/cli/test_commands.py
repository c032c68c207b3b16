import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from deepsad.cli import main
from deepsad.experiments.store import ResultsStore

TINY_FLAGS = ["--param", "epochs=2", "--param", "ae_epochs=2", "--param", "lr_milestones=[1]", "--param", "ae_lr_milestones=[1]"]


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("command", [[], ["demo"], ["run"], ["sweep"], ["fit"], ["score"]])
def test_help_explains_every_option_with_its_default(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    if command in (["run"], ["sweep"]):
        assert "--data-root" in result.output and "DEEPSAD_DATA" in result.output
        assert "--threads auto|N" in result.output and "[default: auto]" in result.output


def test_report_help_names_every_column_it_can_group_by(cli):
    from deepsad.experiments.report import DEFINITION_COLUMNS

    output = " ".join(cli("report", "--help").output.split())
    assert all(column in output for column in DEFINITION_COLUMNS)


def test_demo_prints_both_methods(cli):
    result = cli("demo", "--normal-class", "0", "--device", "cpu")
    assert result.exit_code == 0
    assert "Deep SVDD" in result.output and "Deep SAD" in result.output and "total time" in result.output


def test_run_prints_a_json_record(cli):
    result = CliRunner().invoke(main, ["run", "--dataset", "digits", "--normal-class", "2", "--method", "deepsad",
                                       "--ratio-known-anomaly", "0.05", "--seed", "1", "--device", "cpu", *TINY_FLAGS])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["experiment"]["normal_class"] == 2 and record["experiment"]["seed"] == 1
    assert record["experiment"]["params"]["lr_milestones"] == [1]
    assert 0.5 < record["metrics"]["auroc"] <= 1.0
    assert "AUROC" in result.stderr


def test_run_writes_record_and_model_files(cli, tmp_path):
    config = tmp_path / "one.toml"
    config.write_text('datasets = ["digits"]\nmethods = ["deepsvdd"]\nnormal_classes = [5]\n'
                      '[params]\nepochs = 2\nae_epochs = 2\n')
    result = CliRunner().invoke(main, ["run", "--config", str(config), "--seed", "3", "--output", str(tmp_path / "r.json"),
                                       "--model-out", str(tmp_path / "m.safetensors"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["experiment"]["method"] == "deepsvdd" and record["experiment"]["seed"] == 3
    assert (tmp_path / "m.safetensors").stat().st_size > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "mnist", "--method", "deepsad"], "give --normal-class"),
        (["--dataset", "digits", "--normal-class", "0", "--method", "svm"], "methods: 'svm'"),
        (["--dataset", "digits", "--normal-class", "0", "--method", "deepsad", "--param", "epochs"], "KEY=VALUE"),
        (["--dataset", "digits", "--normal-class", "0", "--method", "deepsad", "--param", "epoch=3"], "has no parameter"),
        (["--dataset", "thyroid", "--method", "deepsad", "--no-download", "--data-root", "{tmp}"], "thyroid.mat"),
        (["--dataset", "digits", "--normal-class", "0", "--method", "deepsad", "--ratio-known-anomaly", "2"], "ratio_known_anomaly"),
    ],
)
def test_run_errors_are_messages_not_tracebacks(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(main, ["run", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_sweep_dry_run_then_run_then_resume(tmp_path):
    config = tmp_path / "grid.yaml"
    config.write_text("datasets: [digits]\nmethods: [deepsvdd]\nnormal_classes: [0, 1]\nseeds: 1\n"
                      "params: {epochs: 2, ae_epochs: 2}\n")
    store = str(tmp_path / "results.sqlite")
    runner = CliRunner()
    dry = runner.invoke(main, ["sweep", str(config), "--store", store, "--dry-run"])
    assert dry.exit_code == 0 and "2 experiments in the grid, 0 already" in dry.output
    assert ResultsStore(store).keys() == set()
    first = runner.invoke(main, ["sweep", str(config), "--store", store, "--workers", "2", "--device", "cpu"])
    assert first.exit_code == 0, first.output
    assert "2 succeeded, 0 failed, 0 skipped" in first.output
    again = runner.invoke(main, ["sweep", str(config), "--store", store])
    assert "0 succeeded, 0 failed, 2 skipped" in again.output
    # Spaces around the columns are read the same way in --group-by and --pivot.
    report = runner.invoke(main, ["report", store, "--group-by", "normal_class, method", "--pivot", " method ",
                                  "--no-plots", "--output-dir", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    assert "| normal_class | deepsvdd |" in report.output, report.output  # the methods are the columns
    # --config: only the experiments of that grid, whatever else the store holds.
    narrower = tmp_path / "narrower.yaml"
    narrower.write_text(config.read_text().replace("[0, 1]", "[1]"))
    only = runner.invoke(main, ["report", store, "--config", str(narrower), "--group-by", "normal_class",
                                "--no-plots", "--output-dir", str(tmp_path / "narrower")])
    assert only.exit_code == 0, only.output
    assert "1 successful experiments" in only.output and "| 1 " in only.output and "| 0 " not in only.output
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(config.read_text().replace("[0, 1]", "[2]"))
    none = runner.invoke(main, ["report", store, "--config", str(elsewhere), "--output-dir", str(tmp_path / "none")])
    assert none.exit_code != 0 and "holds none of the 1 experiment(s) to report" in none.output


def test_sweep_shares_the_usable_cores_among_its_workers(tmp_path, monkeypatch):
    import deepsad.experiments.parallelism

    monkeypatch.setattr(deepsad.experiments.parallelism, "usable_cores", lambda: 8)
    config = tmp_path / "grid.yaml"
    config.write_text("datasets: [digits]\nmethods: [deepsvdd]\nnormal_classes: [0, 1]\nseeds: 1\n")
    store = str(tmp_path / "results.sqlite")
    auto = CliRunner().invoke(main, ["sweep", str(config), "--store", store, "--dry-run"])
    assert "2 to run in 2 pack(s) on 2 worker(s) × 4 thread(s)" in auto.output, auto.output
    # a fresh store: the time is estimated from short runs of the one kind (Deep SVDD on digits)
    assert "estimated time for the 2 of a kind not run yet, from short runs of 1 kind(s)" in auto.output
    assert ResultsStore(store).keys() == set()
    given = CliRunner().invoke(main, ["sweep", str(config), "--store", store, "--dry-run", "--workers", "1",
                                      "--no-calibrate"])
    assert "on 1 worker(s) × 8 thread(s)" in given.output and "estimated" not in given.output, given.output
    refused = CliRunner().invoke(main, ["sweep", str(config), "--store", store, "--dry-run", "--threads", "0"])
    assert refused.exit_code != 0 and "'--threads': 0 is not 'auto' or at least 1" in refused.output


def test_sweep_with_failures_exits_nonzero(tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text('datasets = ["arrhythmia"]\nmethods = ["iforest"]\n')
    result = CliRunner().invoke(main, ["sweep", str(config), "--store", str(tmp_path / "r.sqlite"),
                                       "--no-download", "--data-root", str(tmp_path)])
    assert result.exit_code == 1
    assert "0 succeeded, 1 failed" in result.output and "arrhythmia" in result.output


def test_sweep_refuses_a_bad_configuration(tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text('datasets = ["cardio"]\nmethods = ["deepsad"]\nepochs = 3\n')
    result = CliRunner().invoke(main, ["sweep", str(config), "--store", str(tmp_path / "r.sqlite")])
    assert result.exit_code != 0 and "unknown setting" in result.output and "Traceback" not in result.output


def _write_sensor_files(folder):
    """train.csv with a label column (five known anomalies, other cells empty), new.csv without."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 3)), rng.normal(6, 1, size=(10, 3))])
    label = np.full(len(X), np.nan)
    label[200:205] = -1
    table = pd.DataFrame(X, columns=["temp", "pressure", "flow"])
    table.assign(label=label).to_csv(folder / "train.csv", index=False)
    table.to_csv(folder / "new.csv", index=False)


def test_fit_then_score_own_data(tmp_path):
    import pandas as pd

    _write_sensor_files(tmp_path)
    model = tmp_path / "sensors.safetensors"
    fitted = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out",
                                       str(model), "--device", "cpu", "--param", "epochs=10", "--param", "ae_epochs=10"])
    assert fitted.exit_code == 0, fitted.output
    assert "5 known anomalies, 0 known normal, 205 unlabeled" in fitted.stderr and model.exists()
    scored = CliRunner().invoke(main, ["score", str(model), str(tmp_path / "new.csv"), "--output", str(tmp_path / "s.csv"),
                                       "--device", "cpu"])
    assert scored.exit_code == 0, scored.output
    scores = pd.read_csv(tmp_path / "s.csv")
    assert list(scores.columns) == ["anomaly_score", "prediction"] and len(scores) == 210
    assert set(scores["prediction"]) <= {-1, 1}
    assert scores["anomaly_score"][200:].min() > scores["anomaly_score"][:200].median()
    to_stdout = CliRunner().invoke(main, ["score", str(model), str(tmp_path / "train.csv"), "--label-column", "label",
                                          "--device", "cpu"])
    assert to_stdout.stdout.splitlines()[0] == "anomaly_score,prediction,label"


def test_fit_with_a_threshold_strategy_calibrates_and_score_writes_p_values(tmp_path):
    import pandas as pd

    import deepsad
    from deepsad.decisions import CalibratedDetector

    _write_sensor_files(tmp_path)
    model = tmp_path / "sensors.safetensors"
    fitted = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out",
                                       str(model), "--device", "cpu", "--param", "epochs=3", "--param", "ae_epochs=3",
                                       "--threshold", "fpr:0.05"])
    assert fitted.exit_code == 0, fitted.output
    # 20% of the 205 unlabeled samples; the 5 labeled anomalies all train (fpr needs none)
    assert "calibrated on 41 held-out samples: threshold" in fitted.stderr and "(fpr:0.05)" in fitted.stderr
    loaded = deepsad.load(model)
    assert isinstance(loaded, CalibratedDetector) and len(loaded.calibration_scores_) == 41
    scored = CliRunner().invoke(main, ["score", str(model), str(tmp_path / "new.csv"), "--device", "cpu"])
    assert scored.exit_code == 0, scored.output
    from io import StringIO

    scores = pd.read_csv(StringIO(scored.stdout))
    assert list(scores.columns) == ["anomaly_score", "prediction", "p_value"]
    assert scores["p_value"].between(1 / 42, 1).all()
    assert (scores["prediction"] == -1).tolist() == (scores["anomaly_score"] > loaded.threshold_).tolist()


@pytest.mark.filterwarnings("ignore:DeepSVDD is unsupervised:UserWarning")
def test_fit_with_the_soft_boundary_threshold_keeps_the_sphere(tmp_path):
    import deepsad

    _write_sensor_files(tmp_path)
    model = tmp_path / "sphere.safetensors"
    fitted = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--method",
                                       "deepsvdd-soft", "--model-out", str(model), "--device", "cpu", *TINY_FLAGS,
                                       "--threshold", "soft-boundary"])
    assert fitted.exit_code == 0, fitted.output
    assert "threshold 0 (soft-boundary); false alarm rate" in fitted.stderr
    loaded = deepsad.load(model)
    assert loaded.threshold_ == 0.0 and loaded.detector_.objective == "soft-boundary"


def test_fit_with_probability_and_score_with_a_prevalence_write_anomaly_probabilities(tmp_path):
    from io import StringIO

    _write_sensor_files(tmp_path)
    model = tmp_path / "sensors.safetensors"
    fitted = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out",
                                       str(model), "--device", "cpu", "--param", "epochs=3", "--param", "ae_epochs=3",
                                       "--threshold", "fpr:0.05", "--probability"])
    assert fitted.exit_code == 0, fitted.output
    new = str(tmp_path / "new.csv")
    scored = CliRunner().invoke(main, ["score", str(model), new, "--device", "cpu", "--prevalence", "0.02"])
    assert scored.exit_code == 0, scored.output
    scores = pd.read_csv(StringIO(scored.stdout))
    assert list(scores.columns) == ["anomaly_score", "prediction", "p_value", "anomaly_probability"]
    assert scores["anomaly_probability"].between(0, 1).all()
    ordered = scores.sort_values("anomaly_score")["anomaly_probability"]
    assert ordered.is_monotonic_increasing or ordered.is_monotonic_decreasing  # a function of the score
    refused = CliRunner().invoke(main, ["score", str(model), new, "--prevalence", "1.5"])
    assert refused.exit_code != 0 and "0<x<1" in refused.output


def test_a_prevalence_for_a_model_without_probabilities_is_refused(tmp_path):
    _write_sensor_files(tmp_path)
    model = tmp_path / "m.safetensors"
    CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out", str(model),
                              "--device", "cpu", *TINY_FLAGS])
    result = CliRunner().invoke(main, ["score", str(model), str(tmp_path / "new.csv"), "--prevalence", "0.1"])
    assert result.exit_code != 0 and "fitted with --threshold and --probability; this model has none" in result.output


@pytest.mark.parametrize("args, message", [
    (["--label-column", "label", "--threshold", "fpr:0.001"], "α = 0.001 needs at least 999 samples"),
    (["--label-column", "label", "--probability"], "--probability calibrates on held-out data: give --threshold"),
    (["--label-column", "label", "--threshold", "quantile:0.9"], "unknown threshold strategy 'quantile:0.9'"),
    (["--label-column", "label", "--threshold", "fpr:0.1", "--calibration-size", "1"], "0<x<1"),
    (["--label-column", "target"], "no label column 'target'"),
    (["--label-column", "label", "--method", "iforest"], "'iforest' is not one of 'deepsad', 'deepsvdd'"),
    (["--label-column", "label", "--param", "epochs"], "--param expects KEY=VALUE"),
    (["--threshold", "f1"], "--threshold f1 needs at least 2 labeled anomalies (one to train on, one to calibrate on); "
                            "the labels hold 0. Give them with --label-column or --labels"),
    (["--threshold", "fpr:0.1", "--probability"], "--probability needs at least 2 labeled anomalies"),
    (["--threshold", "fpr:0.1", "--probability"], "or leave --probability out"),
    (["--label-column", "label", "--threshold", "fpr:0.01", "--calibration-size", "0.05"],
     "Change --calibration-size (now 0.05)"),
    (["--label-column", "label", "--threshold", "fpr:0.1", "--param", "contamination=0.1"],
     "--param contamination sets the threshold of a model fitted without --threshold"),
    (["--label-column", "label", "--param", "random_state=3"], "--param random_state=... is what --seed sets; use --seed"),
    (["--label-column", "label", "--param", "device=cpu"], "--param device=... is what --device sets"),
    (["--threshold", "soft-boundary"], "--threshold soft-boundary is the sphere a soft-boundary Deep SVDD learns, and "
                                       "--method deepsad learns none: use --method deepsvdd-soft"),
    (["--method", "deepsvdd", "--param", "objective=one-class", "--threshold", "soft-boundary"],
     "--method deepsvdd with these --param learns none"),
])
def test_fit_errors_are_messages_not_tracebacks(tmp_path, args, message):
    _write_sensor_files(tmp_path)
    result = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--model-out", str(tmp_path / "m.safetensors"),
                                       *args])
    assert result.exit_code != 0 and message in result.output
    assert not (tmp_path / "m.safetensors").exists()


def test_score_refuses_a_table_with_the_label_column_left_in(tmp_path):
    _write_sensor_files(tmp_path)
    model = tmp_path / "m.safetensors"
    CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out", str(model),
                              "--device", "cpu", *TINY_FLAGS], catch_exceptions=False)
    result = CliRunner().invoke(main, ["score", str(model), str(tmp_path / "train.csv"), "--device", "cpu"])
    assert result.exit_code != 0 and "feature names" in result.output.lower()


def test_binary_labels_are_converted_with_anomaly_label(tmp_path):
    _write_sensor_files(tmp_path)
    train = tmp_path / "train.csv"
    table = pd.read_csv(train)
    table["label"] = (table["label"] == -1).astype(int)  # the PyOD convention: 1 = anomaly
    table.to_csv(train, index=False)
    result = CliRunner().invoke(main, ["fit", str(train), "--label-column", "label", "--anomaly-label", "1",
                                       "--model-out", str(tmp_path / "m.safetensors"), "--device", "cpu", *TINY_FLAGS])
    assert result.exit_code == 0, result.output
    n_anomalies = int(table["label"].sum())
    assert f"{n_anomalies} known anomalies, 0 known normal" in result.output
    assert "LabelConventionWarning" not in result.output
    unconverted = CliRunner().invoke(main, ["fit", str(train), "--label-column", "label",
                                            "--model-out", str(tmp_path / "m2.safetensors"), "--device", "cpu",
                                            *TINY_FLAGS])
    assert unconverted.exit_code == 0
    assert "no known anomaly (-1)" in unconverted.output and "--anomaly-label 1" in unconverted.output


def _single_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_a_diverging_fit_is_one_error_line(tmp_path):
    _write_sensor_files(tmp_path)
    result = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--model-out", str(tmp_path / "m.st"),
                                       "--label-column", "label", "--param", "lr=1e30", "--param", "ae_epochs=0", "--param", "epochs=3",
                                       "--device", "cpu"])
    assert "TrainingDiverged" in _single_error_line(result)
    assert not (tmp_path / "m.st").exists()


def test_an_incomplete_model_file_is_one_error_line(tmp_path):
    _write_sensor_files(tmp_path)
    model = tmp_path / "m.safetensors"
    CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out", str(model),
                              "--device", "cpu", *TINY_FLAGS], catch_exceptions=False)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(model.read_bytes()[:-100])
    result = CliRunner().invoke(main, ["score", str(truncated), str(tmp_path / "new.csv")])
    assert "truncated.safetensors" in _single_error_line(result)


def test_a_header_only_table_says_it_has_no_rows(tmp_path):
    (tmp_path / "empty.csv").write_text("a,b,c\n")
    result = CliRunner().invoke(main, ["fit", str(tmp_path / "empty.csv"), "--model-out", str(tmp_path / "m.st")])
    assert "no data rows" in _single_error_line(result)


def test_unexpected_errors_are_one_line_unless_debugging(tmp_path, monkeypatch):
    import deepsad.cli.user_data

    def broken(*args, **kwargs):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(deepsad.cli.user_data, "read_data_file", broken)
    _write_sensor_files(tmp_path)
    args = ["fit", str(tmp_path / "train.csv"), "--model-out", str(tmp_path / "m.st")]
    assert _single_error_line(CliRunner().invoke(main, args)) == "Error: RuntimeError: something unexpected"
    monkeypatch.setenv("DEEPSAD_DEBUG", "1")
    assert isinstance(CliRunner().invoke(main, args).exception, RuntimeError)


def test_missing_values_name_the_column(tmp_path):
    _write_sensor_files(tmp_path)  # train.csv's label column has empty cells: read as a feature, they are NaN
    result = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--model-out", str(tmp_path / "m.st")])
    assert "missing values (NaN) in column(s) ['label']" in _single_error_line(result)


def test_anomaly_label_refuses_labels_already_in_deepsads_convention(tmp_path):
    _write_sensor_files(tmp_path)  # its label column holds -1 and empty cells
    result = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label",
                                       "--anomaly-label", "1", "--model-out", str(tmp_path / "m.st")])
    assert "need no --anomaly-label" in _single_error_line(result)


def test_boolean_label_columns_are_refused_unless_converted(tmp_path):
    _write_sensor_files(tmp_path)
    table = pd.read_csv(tmp_path / "train.csv")
    table["label"] = table["label"] == -1
    table.to_csv(tmp_path / "train.csv", index=False)
    args = ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out", str(tmp_path / "m.st"),
            "--device", "cpu", *TINY_FLAGS]
    assert "--anomaly-label True" in _single_error_line(CliRunner().invoke(main, args))
    converted = CliRunner().invoke(main, [*args, "--anomaly-label", "True"])
    assert converted.exit_code == 0 and "5 known anomalies" in converted.output


def test_an_unwritable_model_path_fails_before_training(tmp_path):
    _write_sensor_files(tmp_path)
    (tmp_path / "a_file").write_text("")
    result = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--model-out",
                                       str(tmp_path / "a_file" / "m.st"), "--param", "epochs=1000000"])
    assert "is not a folder" in _single_error_line(result)


def test_a_dry_run_creates_no_store(tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text('datasets = ["digits"]\nmethods = ["deepsad"]\nseeds = 3\nnormal_classes = [0]\n')
    result = CliRunner().invoke(main, ["sweep", str(config), "--store", str(tmp_path / "new" / "s.sqlite"), "--dry-run",
                                       "--workers", "1"])
    assert result.exit_code == 0 and "3 to run in 1 pack(s)" in result.output
    assert "from short runs of 1 kind(s)" in result.output  # the calibration writes nothing either
    assert not (tmp_path / "new").exists()


def test_params_take_inf_and_nan_as_numbers():
    from deepsad.cli.single_run import parse_param

    assert parse_param("lr=inf") == ("lr", float("inf"))
    assert parse_param("lr=1e-4") == ("lr", 1e-4)
    assert parse_param("network=mlp") == ("network", "mlp")


def test_explain_writes_per_feature_attributions_of_a_table(tmp_path):
    import pandas as pd

    import deepsad

    _write_sensor_files(tmp_path)
    model = tmp_path / "m.safetensors"
    CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "label", "--model-out", str(model),
                              "--device", "cpu", "--param", "epochs=3", "--param", "ae_epochs=3"])
    result = CliRunner().invoke(main, ["explain", str(model), str(tmp_path / "new.csv"), "--out", str(tmp_path / "ex"),
                                       "--device", "cpu"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "ex" / "attributions.csv")
    assert list(table.columns) == ["anomaly_score", "prediction", "attribution:temp", "attribution:pressure",
                                   "attribution:flow"]
    fitted = deepsad.load(model)
    mean_score = fitted.anomaly_score(pd.DataFrame(fitted.scaler_.mean_.reshape(1, -1),
                                                   columns=["temp", "pressure", "flow"]))[0]
    sums = table.filter(like="attribution:").sum(axis=1)
    np.testing.assert_allclose(sums, table["anomaly_score"] - mean_score, atol=0.05 * table["anomaly_score"].abs().max())
    # a label column is left out of the features and copied beside the explanations, as score does
    labeled = CliRunner().invoke(main, ["explain", str(model), str(tmp_path / "train.csv"), "--label-column", "label",
                                        "--out", str(tmp_path / "ex2"), "--device", "cpu"])
    assert labeled.exit_code == 0, labeled.output
    with_labels = pd.read_csv(tmp_path / "ex2" / "attributions.csv")
    assert list(with_labels.columns[:3]) == ["anomaly_score", "prediction", "label"]
    assert (with_labels["label"] == -1).sum() == 5


def test_explain_draws_the_most_anomalous_images(tmp_path):
    import pandas as pd

    images = (np.random.default_rng(0).random((30, 1, 28, 28)) * 255).astype(np.uint8)
    np.save(tmp_path / "images.npy", images)
    model = tmp_path / "m.safetensors"
    fitted = CliRunner().invoke(main, ["fit", str(tmp_path / "images.npy"), "--model-out", str(model), "--device", "cpu",
                                       "--param", "epochs=1", "--param", "ae_epochs=1"])
    assert fitted.exit_code == 0, fitted.output
    result = CliRunner().invoke(main, ["explain", str(model), str(tmp_path / "images.npy"), "--out",
                                       str(tmp_path / "ex"), "--images", "2", "--steps", "4", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    listing = pd.read_csv(tmp_path / "ex" / "images.csv")
    assert listing["rank"].tolist() == [1, 2] and listing["anomaly_score"].is_monotonic_decreasing
    for name in listing["file"]:
        assert (tmp_path / "ex" / name).read_bytes().startswith(b"\x89PNG")


def test_explain_errors_are_one_line(tmp_path):
    _write_sensor_files(tmp_path)
    (tmp_path / "not-a-model").write_text("x")
    result = CliRunner().invoke(main, ["explain", str(tmp_path / "not-a-model"), str(tmp_path / "new.csv"), "--out",
                                       str(tmp_path / "ex")])
    assert result.exit_code == 1 and "not a readable deepsad model file" in result.output
    assert "Traceback" not in result.output


def test_inspect_fits_fcdd_on_an_image_folder_and_evaluates_it(tmp_path):
    from PIL import Image

    import deepsad

    rng = np.random.default_rng(0)

    def save(path, array):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array.astype(np.uint8)).save(path)

    for i in range(60):
        save(tmp_path / "data" / "train" / "good" / f"{i:03d}.png", rng.integers(0, 60, (28, 28)))
    for i in range(10):
        save(tmp_path / "data" / "test" / "good" / f"{i:03d}.png", rng.integers(0, 60, (28, 28)))
        image, mask = rng.integers(0, 60, (28, 28)), np.zeros((28, 28))
        top, left = rng.integers(0, 20, size=2)
        image[top : top + 8, left : left + 8] = 255
        mask[top : top + 8, left : left + 8] = 255
        save(tmp_path / "data" / "test" / "spot" / f"{i:03d}.png", image)
        save(tmp_path / "data" / "ground_truth" / "spot" / f"{i:03d}_mask.png", mask)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "data"), "--out", str(out), "--param", "epochs=15",
                                       "--param", "lr=0.001", "--param", "batch_size=16", "--heatmaps", "3",
                                       "--device", "cpu"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training_images"] == 60 and metrics["anomalous_test_images"] == 10
    assert metrics["image_auroc"] > 0.9 and metrics["pixel_auroc"] > 0.8 and metrics["test_images_with_masks"] == 10
    assert "image_auroc" in result.stderr
    scores = pd.read_csv(out / "test_scores.csv")
    assert len(scores) == 20 and set(scores["defect"]) == {"good", "spot"}
    assert len(list((out / "heatmaps").glob("*.png"))) == 3
    assert isinstance(deepsad.load(out / "model.safetensors"), deepsad.FCDD)
    np.save(tmp_path / "new.npy", rng.integers(0, 255, (5, 1, 28, 28)).astype(np.uint8))
    explained = CliRunner().invoke(main, ["explain", str(out / "model.safetensors"), str(tmp_path / "new.npy"),
                                          "--out", str(tmp_path / "ex"), "--images", "2", "--device", "cpu"])
    assert explained.exit_code == 0, explained.output
    assert len(list((tmp_path / "ex").glob("rank*.png"))) == 2
    # a reused output folder shows this run's overlays only, and keeps files it did not write
    (out / "heatmaps" / "rank1.png").write_bytes(b"a user's own file")
    again = CliRunner().invoke(main, ["inspect", str(tmp_path / "data"), "--out", str(out), "--param", "epochs=1",
                                      "--heatmaps", "1", "--device", "cpu"])
    assert again.exit_code == 0, again.output
    assert len(list((out / "heatmaps").glob("rank[0-9][0-9][0-9]_*.png"))) == 1
    assert (out / "heatmaps" / "rank1.png").exists()
    CliRunner().invoke(main, ["explain", str(out / "model.safetensors"), str(tmp_path / "new.npy"),
                              "--out", str(tmp_path / "ex"), "--images", "1", "--device", "cpu"])
    assert len(list((tmp_path / "ex").glob("rank*.png"))) == 1
    missing = CliRunner().invoke(main, ["inspect", str(tmp_path), "--out", str(out)])
    assert missing.exit_code == 1 and "train/good is missing" in missing.output


def test_inspect_trains_against_an_auxiliary_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)

    def save(path, array, mode=None):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array.astype(np.uint8), mode).save(path)

    for i in range(20):
        save(tmp_path / "data" / "train" / "good" / f"{i:03d}.png", rng.integers(0, 60, (16, 16)))
        save(tmp_path / "data" / "test" / ("good" if i % 2 else "spot") / f"{i:03d}.png",
             rng.integers(0, 60 if i % 2 else 255, (16, 16)))
    # auxiliary images of another size and colour, in subfolders: resized and greyed to fit
    for i in range(6):
        save(tmp_path / "aux" / f"part{i % 2}" / f"{i}.jpg", rng.integers(0, 255, (24, 24, 3)), "RGB")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "data"), "--out", str(out), "--param", "epochs=1",
                                       "--auxiliary", str(tmp_path / "aux"), "--heatmaps", "0", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "metrics.json").read_text())["auxiliary_images"] == 6
    (tmp_path / "aux" / "broken.png").write_bytes(b"not an image")
    broken = CliRunner().invoke(main, ["inspect", str(tmp_path / "data"), "--out", str(out), "--param", "epochs=1",
                                       "--auxiliary", str(tmp_path / "aux"), "--device", "cpu"])
    assert broken.exit_code == 1 and "broken.png is not a readable image" in broken.output
    # the data folder's own images are no auxiliary set: its test images would become training anomalies
    (tmp_path / "data" / "ground_truth").mkdir()
    for leaking in (tmp_path / "data", tmp_path / "data" / "test" / "spot", tmp_path / "data" / "ground_truth"):
        refused = CliRunner().invoke(main, ["inspect", str(tmp_path / "data"), "--out", str(out), "--param", "epochs=1",
                                            "--auxiliary", str(leaking), "--device", "cpu"])
        assert refused.exit_code == 1 and "holds images of the data folder's" in refused.output


def test_inspect_checks_its_output_folder_before_training(tmp_path, monkeypatch):
    from PIL import Image

    import deepsad

    for part in ("train", "test"):
        (tmp_path / "data" / part / "good").mkdir(parents=True)
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "data" / part / "good" / "a.png")
    (tmp_path / "file.csv").write_text("a\n1\n")
    monkeypatch.setattr(deepsad.FCDD, "fit", lambda *a, **k: pytest.fail("trained before checking --out"))
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "data"), "--out", str(tmp_path / "file.csv" / "results")])
    assert result.exit_code == 1 and "file.csv" in result.output


def test_a_label_column_named_like_an_output_column_keeps_both(tmp_path):
    import pandas as pd

    _write_sensor_files(tmp_path)
    table = pd.read_csv(tmp_path / "train.csv").rename(columns={"label": "prediction"})
    table.to_csv(tmp_path / "train.csv", index=False)
    model = tmp_path / "m.safetensors"
    fitted = CliRunner().invoke(main, ["fit", str(tmp_path / "train.csv"), "--label-column", "prediction", "--model-out",
                                       str(model), "--device", "cpu", *TINY_FLAGS])
    assert fitted.exit_code == 0, fitted.output
    scored = CliRunner().invoke(main, ["score", str(model), str(tmp_path / "train.csv"), "--label-column", "prediction",
                                       "--output", str(tmp_path / "s.csv")])
    assert scored.exit_code == 0, scored.output
    scores = pd.read_csv(tmp_path / "s.csv")
    assert set(scores["prediction"]) <= {-1, 1} and (scores["label:prediction"] == -1).sum() == 5
    explained = CliRunner().invoke(main, ["explain", str(model), str(tmp_path / "train.csv"), "--label-column",
                                          "prediction", "--out", str(tmp_path / "ex"), "--device", "cpu"])
    assert explained.exit_code == 0, explained.output
    assert "label:prediction" in pd.read_csv(tmp_path / "ex" / "attributions.csv").columns


def test_a_dry_run_that_skips_failures_says_so(tmp_path):
    from deepsad.experiments.config import expand, read_config
    from deepsad.experiments.store import ResultsStore

    config = tmp_path / "c.toml"
    config.write_text('datasets = "digits"\nmethods = "deepsvdd"\nnormal_classes = [0, 1]\n')
    store = ResultsStore(tmp_path / "s.sqlite")
    first = expand(read_config(config))[0]
    store.add_failure(first.key, first.to_dict(), "ValueError: boom")
    skipped = CliRunner().invoke(main, ["sweep", str(config), "--store", str(store.path), "--dry-run", "--skip-failed"])
    assert skipped.exit_code == 0, skipped.output
    assert "1 already in" in skipped.output and "(1 of them failed earlier and are skipped: --retry-failed" in skipped.output
    retried = CliRunner().invoke(main, ["sweep", str(config), "--store", str(store.path), "--dry-run"])
    assert "0 already in" in retried.output and "failed earlier" not in retried.output
