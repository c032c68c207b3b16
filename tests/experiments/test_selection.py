import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score

from deepsad.baselines import SSAD
from deepsad.cli import main
from deepsad.cli.single_run import single_experiment
from deepsad.experiments.config import ConfigError, expand
from deepsad.experiments.methods import METHODS
from deepsad.experiments.records import evaluate
from deepsad.experiments.report import results_frame, summary_table
from deepsad.experiments.runner import run_experiment
from deepsad.experiments.selection import (
    grid_points,
    honest_protocol,
    median_heuristic_gamma,
    paper_protocol,
    paper_tuning_mask,
    select,
)
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore
from deepsad.experiments.tasks import build_task
from deepsad.models import Autoencoder

GAMMAS = [0.0078125, 0.015625, 0.03125, 0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0]


def on_circle(angles, radius):
    return np.c_[radius * np.cos(angles), radius * np.sin(angles)]


@pytest.fixture
def ring():
    """Training normals: 12 points evenly on a circle of radius 3. Test: 200 normals on the
    circle, 30 anomalies at its center (missed by a kernel wider than γ ≈ 0.25) and 30 just
    outside it next to training points (missed by a kernel narrower than γ ≈ 0.5)."""
    rng = np.random.default_rng(0)
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    X_test = np.vstack([
        on_circle(rng.uniform(0, 2 * np.pi, 200), 3.0), rng.normal(0, 0.2, (30, 2)), on_circle(rng.choice(angles, 30), 3.2),
    ])  # fmt: skip
    return on_circle(angles, 3.0), np.zeros(12, dtype=int), X_test, np.r_[np.zeros(200), np.ones(60)].astype(int)


def test_grids_are_the_papers():
    grids = {name: method.grid for name, method in METHODS.items() if method.grid}
    assert list(grids["ocsvm"]["gamma"]) == GAMMAS
    assert list(grids["ocsvm"]["nu"]) == [0.01, 0.05, 0.1, 0.2, 0.5]
    assert grids["ssad"] == {"gamma": grids["ocsvm"]["gamma"]}
    assert grids["hybrid-ocsvm"] == {
        "detector__gamma": grids["ocsvm"]["gamma"], "detector__nu": grids["ocsvm"]["nu"],
    }  # fmt: skip
    assert grids["hybrid-ssad"] == {"detector__gamma": grids["ocsvm"]["gamma"]}
    assert sorted(grids) == ["hybrid-ocsvm", "hybrid-ssad", "ocsvm", "ssad"]
    # SSAD is tuned at the paper's kappa = eta_u = eta_l = 1, its defaults.
    ssad = SSAD().get_params()
    assert (ssad["C"], ssad["C_labeled"], ssad["kappa"]) == (1.0, 1.0, 1.0)
    points = grid_points("ocsvm")
    assert len(points) == 50 and len({json.dumps(p, sort_keys=True) for p in points}) == 50
    assert points[0] == {"gamma": 2**-7, "nu": 0.01} and points[-1] == {"gamma": 4.0, "nu": 0.5}
    assert grid_points("hybrid-ssad")[3] == {"detector__gamma": 2**-4}


@pytest.mark.parametrize("method", ["iforest", "kde", "deepsad", "hybrid-kde"])
def test_methods_with_nothing_to_tune_are_refused_by_name(method):
    with pytest.raises(ValueError, match=f"method '{method}' has no parameters to select; selection applies to .*ocsvm"):
        Experiment("cardio", method, selection="paper")
    with pytest.raises(ValueError, match="has no parameters to select"):
        grid_points(method)


def test_bad_protocol_names_and_fixed_tuned_parameters_are_refused():
    with pytest.raises(ValueError, match=r"selection must be one of \['paper', 'honest'\] or None; got 'best'"):
        Experiment("cardio", "ocsvm", selection="best")
    with pytest.raises(ValueError, match=r"params fix \['detector__gamma'\]"):
        Experiment("cardio", "hybrid-ocsvm", params={"detector__gamma": 0.1}, selection="honest")
    Experiment("cardio", "hybrid-ocsvm", params={"autoencoder__ae_epochs": 3}, selection="honest")


def test_key_of_an_experiment_without_selection_is_unchanged():
    # Computed before the field existed; a results store holds keys like it.
    experiment = Experiment("cardio", "ocsvm", seed=3, ratio_known_anomaly=0.01, params={"nu": 0.05})
    assert experiment.key == "e0b77796d681cd8a"
    assert "selection" not in experiment.to_dict()
    untuned = Experiment("cardio", "ocsvm", seed=3, ratio_known_anomaly=0.01)
    tuned = replace(untuned, selection="honest")
    tuned_differently = replace(untuned, selection="paper")
    assert len({experiment.key, untuned.key, tuned.key, tuned_differently.key}) == 4
    assert Experiment.from_dict(tuned.to_dict()) == tuned and tuned.to_dict()["selection"] == "honest"
    assert "selection=honest" in tuned.describe()


def test_paper_tuning_samples_are_a_seeded_tenth_holding_both_classes():
    truth = np.r_[np.zeros(300), np.ones(30)].astype(int)
    mask = paper_tuning_mask(truth, seed=0)
    assert mask.dtype == bool and mask.sum() == 33
    for part in (mask, ~mask):
        assert 0 < truth[part].sum() < part.sum()
    assert np.array_equal(mask, paper_tuning_mask(truth, seed=0))
    assert not np.array_equal(mask, paper_tuning_mask(truth, seed=1))
    # Two anomalies: one must be drawn and one left, whatever the seed.
    scarce = np.r_[np.zeros(98), np.ones(2)].astype(int)
    for seed in range(5):
        assert paper_tuning_mask(scarce, seed)[98:].sum() == 1


@pytest.mark.parametrize("truth", [np.r_[np.zeros(99), np.ones(1)], np.r_[np.zeros(9), np.ones(9)]])
def test_paper_protocol_refuses_test_sets_it_cannot_split(truth):
    with pytest.raises(ValueError, match="both hold an anomaly and a normal sample"):
        paper_tuning_mask(truth.astype(int), seed=0)


def test_paper_protocol_picks_the_grid_point_with_the_best_tuning_auroc(ring):
    X_train, y_train, X_test, truth = ring
    selection = paper_protocol("ssad", {}, X_train, y_train, X_test, truth, seed=0)
    tuning = paper_tuning_mask(truth, seed=0)
    aurocs = [roc_auc_score(truth[tuning], SSAD(gamma=g).fit(X_train).anomaly_score(X_test[tuning])) for g in GAMMAS]
    assert max(aurocs) - min(aurocs) > 0.3  # the choice matters
    assert selection.chosen == {"gamma": GAMMAS[int(np.argmax(aurocs))]}
    assert selection.chosen["gamma"] in (0.25, 0.5) and selection.tuning_auroc == max(aurocs)
    assert np.array_equal(selection.report_mask, ~tuning) and selection.grid_size == 10
    assert selection.estimator.get_params()["gamma"] == selection.chosen["gamma"]


@pytest.mark.filterwarnings("ignore:OCSVM is unsupervised")
def test_honest_protocol_cross_validates_on_labeled_anomalies():
    """The ring with 100 training normals and 9 labeled anomalies at its center: only kernels
    narrower than about γ = 0.25 tell the held-out ones from the circle."""
    rng = np.random.default_rng(1)
    X = np.vstack([on_circle(rng.uniform(0, 2 * np.pi, 100), 3.0), rng.normal(0, 0.2, (9, 2))])
    y = np.r_[np.zeros(100), -np.ones(9)].astype(int)
    selection = honest_protocol("ocsvm", {}, X, y, seed=0)
    assert selection.chosen["gamma"] >= 0.25 and selection.tuning_auroc > 0.95
    assert selection.grid_size == 50 and selection.report_mask is None
    assert "3-fold cross-validation" in selection.how and "9 labeled anomalies" in selection.how


def test_median_heuristic_by_hand():
    # Squared distances 1, 4, 5: the median is 4.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    assert median_heuristic_gamma(X, seed=0) == 0.25
    wide = np.random.default_rng(0).normal(size=(50, 3))
    assert median_heuristic_gamma(wide, seed=2, max_samples=10) == median_heuristic_gamma(wide, seed=2, max_samples=10)
    assert median_heuristic_gamma(wide, seed=2, max_samples=10) != median_heuristic_gamma(wide, seed=3, max_samples=10)
    with pytest.raises(ValueError, match="most training samples are identical"):
        median_heuristic_gamma(np.zeros((4, 2)), seed=0)


def test_honest_protocol_without_labeled_anomalies_uses_the_median_heuristic():
    X = np.random.default_rng(0).normal(size=(40, 3))
    selection = honest_protocol("ocsvm", {"nu": 0.2}, X, np.zeros(40, dtype=int), seed=0)
    assert selection.chosen == {"gamma": median_heuristic_gamma(X, seed=0)}
    assert selection.estimator.get_params()["nu"] == 0.2 and "median heuristic" in selection.how


@pytest.mark.filterwarnings("ignore:OCSVM is unsupervised")
@pytest.mark.parametrize("ratio_known_anomaly", [0.0, 0.05])
def test_honest_protocol_never_reads_the_test_set(ratio_known_anomaly):
    experiment = Experiment("digits", "ocsvm", normal_class=0, ratio_known_anomaly=ratio_known_anomaly, selection="honest")
    task = build_task(experiment)
    blind = replace(task, X_test=np.full_like(task.X_test, np.nan), test_truth=np.zeros_like(task.test_truth))
    assert select(experiment, blind).chosen == select(experiment, task).chosen
    with pytest.raises(ValueError):
        select(replace(experiment, selection="paper"), blind)


def test_paper_record_reports_only_on_the_samples_it_did_not_tune_on():
    experiment = Experiment("digits", "ocsvm", seed=1, normal_class=3, selection="paper")
    record, outcome = run_experiment(experiment)
    task = build_task(experiment)
    tuned_on = task.test_indices[paper_tuning_mask(task.test_truth, seed=1)]
    assert len(tuned_on) == 71 and len(outcome.indices) == 719 - 71 == record.sizes["test"]
    assert not set(tuned_on) & set(outcome.indices) and set(tuned_on) | set(outcome.indices) == set(task.test_indices)
    assert record.selection["protocol"] == "paper" and record.selection["grid_size"] == 50
    assert record.selection["evaluated_on"] == "90% of the test set"
    assert set(record.selection["chosen"]) == {"gamma", "nu"} and "71 samples" in record.selection["how"]
    assert record.experiment["selection"] == "paper" and record.seconds["selection"] > 0
    assert record.metrics["auroc"] == roc_auc_score(outcome.truth, outcome.scores)
    json.dumps(record.to_dict())


def test_honest_record_reports_on_the_whole_test_set():
    experiment = Experiment("digits", "ssad", normal_class=0, ratio_known_anomaly=0.05, selection="honest")
    record, outcome = run_experiment(experiment)
    assert len(outcome.scores) == 719 and record.selection["evaluated_on"] == "the whole test set"
    assert set(record.selection) == {"protocol", "chosen", "grid_size", "evaluated_on", "how", "tuning_auroc"}
    assert list(record.selection["chosen"]) == ["gamma"] and record.selection["grid_size"] == 10
    assert record.metrics["auroc"] > 0.9


def test_records_without_selection_have_no_selection_entry():
    record, _ = run_experiment(Experiment("digits", "ocsvm", normal_class=0))
    assert record.selection is None and "selection" not in record.to_dict() and "selection" not in record.seconds


@pytest.mark.parametrize("protocol, ratio_known_anomaly", [("paper", 0.0), ("honest", 0.0), ("honest", 0.05)])
def test_hybrids_train_their_autoencoder_once(monkeypatch, protocol, ratio_known_anomaly):
    fits = []
    original_fit = Autoencoder.fit

    def counting_fit(self, X, y=None):
        fits.append(len(X))
        return original_fit(self, X, y)

    monkeypatch.setattr(Autoencoder, "fit", counting_fit)
    experiment = Experiment("digits", "hybrid-ocsvm", normal_class=0, ratio_known_anomaly=ratio_known_anomaly,
                            params={"autoencoder__ae_epochs": 2}, selection=protocol)
    record, outcome = run_experiment(experiment, device="cpu")
    assert len(fits) == 1  # the selection's; the final hybrid reuses it
    assert record.selection["chosen"] and all(k.startswith("detector__") for k in record.selection["chosen"])
    assert record.metrics == evaluate(outcome.truth, outcome.scores, np.asarray(outcome.scores) > record.threshold)


def test_sweep_configs_have_a_selection_axis():
    config = {"datasets": ["cardio"], "methods": ["ocsvm", "iforest", "hybrid-ssad"], "selection": ["paper", "honest"]}
    experiments = expand(config)
    assert sorted((e.method, e.selection or "") for e in experiments) == [
        ("hybrid-ssad", "honest"), ("hybrid-ssad", "paper"), ("iforest", ""), ("ocsvm", "honest"), ("ocsvm", "paper"),
    ]  # fmt: skip
    assert {e.selection for e in expand({**config, "selection": "paper"})} == {"paper", None}
    assert {e.selection for e in expand({"datasets": ["cardio"], "methods": ["ocsvm"]})} == {None}


@pytest.mark.parametrize(
    "config, message",
    [
        ({"methods": ["iforest", "kde"], "selection": "paper"}, "needs a method with parameters to select"),
        ({"methods": ["ocsvm"], "selection": "tuned"}, "selection must be one of"),
        ({"methods": ["ocsvm"], "selection": "paper", "method_params": {"ocsvm": {"gamma": 0.5}}}, "params fix ['gamma']"),
    ],
)
def test_bad_selection_settings_name_the_problem(config, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        expand({"datasets": ["cardio"], **config})


def test_run_flag_selects_and_refuses_methods_with_nothing_to_tune():
    flags = dict(dataset="digits", method="ocsvm", normal_class=0, selection="honest")
    assert single_experiment(None, flags, 0, (), ()).selection == "honest"
    with pytest.raises(ConfigError, match="needs a method with parameters to select"):
        single_experiment(None, {**flags, "method": "iforest"}, 0, (), ())

    result = CliRunner().invoke(main, ["run", "--dataset", "digits", "--normal-class", "0", "--method", "ocsvm",
                                       "--selection", "paper"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["selection"]["protocol"] == "paper" and record["sizes"]["test"] == 648
    assert "selected gamma=" in result.stderr
    refused = CliRunner().invoke(main, ["run", "--dataset", "digits", "--normal-class", "0", "--method", "ocsvm",
                                        "--selection", "best"])
    assert refused.exit_code != 0 and "'best' is not one of 'paper', 'honest'" in refused.output


def test_reports_group_by_selection(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    for selection in (None, "paper", "honest"):
        store.add_result(*run_experiment(Experiment("digits", "ocsvm", normal_class=0, selection=selection)))
    frame = results_frame(store)
    assert sorted(frame["selection"]) == ["", "honest", "paper"]
    summary = summary_table(frame, ["method", "selection"])
    assert summary.table["selection"].tolist() == ["", "honest", "paper"] and summary.table["n"].tolist() == [1, 1, 1]
