import numpy as np
import pytest

import deepsad
from deepsad.experiments.runner import evaluate, run_experiment, run_experiments
from deepsad.experiments.spec import Experiment
from tests.conftest import TINY


def test_record_of_a_deep_method(tmp_path):
    experiment = Experiment("digits", "deepsad", seed=0, normal_class=0, ratio_known_anomaly=0.05, params=TINY)
    record, outcome = run_experiment(experiment, device="cpu", model_path=str(tmp_path / "model.safetensors"))
    assert record.key == experiment.key
    assert record.experiment == experiment.to_dict()
    assert set(record.metrics) == {"auroc", "auprc", "f1"}
    assert all(0.0 <= v <= 1.0 for v in record.metrics.values())
    assert record.metrics["auroc"] > 0.8  # digit 0 against the rest, even after two epochs
    assert record.sizes["test"] == len(outcome.scores) == len(outcome.truth) == 719
    sizes = record.sizes
    assert sizes["known_anomaly"] == round(0.05 * sizes["unlabeled_normal"] / 0.95) > 0
    assert len(record.history["pretrain"]["loss"]) == 2 and len(record.history["train"]["loss"]) == 2
    assert record.seconds["train"] > 0 and record.environment["device"] == "cpu"
    # The saved model reproduces the scores the record was computed from.
    from deepsad.experiments.tasks import build_task

    task = build_task(experiment)
    reloaded = deepsad.load(tmp_path / "model.safetensors", device="cpu")
    assert np.allclose(reloaded.anomaly_score(task.X_test), outcome.scores, rtol=1e-5, atol=1e-6)


def test_record_of_a_shallow_method_and_its_warnings():
    experiment = Experiment("digits", "iforest", seed=1, normal_class=4, ratio_known_anomaly=0.05)
    record, outcome = run_experiment(experiment)
    assert record.metrics["auroc"] > 0.8
    assert record.history == {}
    assert any("label" in warning for warning in record.warnings)  # unsupervised: labels ignored


def test_same_experiment_same_result():
    experiment = Experiment("digits", "deepsvdd", seed=2, normal_class=1, params=TINY)
    first, first_outcome = run_experiment(experiment, device="cpu")
    second, second_outcome = run_experiment(experiment, device="cpu")
    assert first.metrics == second.metrics
    assert np.array_equal(first_outcome.scores, second_outcome.scores)


def test_shallow_methods_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="cannot be saved"):
        run_experiment(Experiment("digits", "iforest", normal_class=0), model_path=str(tmp_path / "m"))


def test_evaluate_metrics_on_known_values():
    truth = np.array([0, 0, 1, 1])
    metrics = evaluate(truth, np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, True, False, True]))
    assert metrics["auroc"] == pytest.approx(0.75)
    assert metrics["auprc"] == pytest.approx((1 + 2 / 3) / 2)
    assert metrics["f1"] == pytest.approx(0.5)


def test_evaluate_refuses_meaningless_input():
    with pytest.raises(ValueError, match="non-finite"):
        evaluate(np.array([0, 1]), np.array([0.0, np.nan]), np.array([False, True]))
    with pytest.raises(ValueError, match="both normal and anomalous"):
        evaluate(np.array([0, 0]), np.array([0.0, 1.0]), np.array([False, True]))


def test_soft_boundary_deep_svdd_by_name():
    experiment = Experiment("digits", "deepsvdd-soft", seed=0, normal_class=0, params=TINY)
    record, _ = run_experiment(experiment, device="cpu")
    assert record.history["radius"] and record.history["radius"][-1] > 0
    assert record.experiment["params"] == TINY  # the objective comes with the name


@pytest.mark.parametrize("method", ["supervised", "ssdgm", "hybrid-ocsvm", "hybrid-iforest", "hybrid-kde", "hybrid-ssad"])
def test_every_method_runs_by_name(method):
    # digits has ~120 training samples: the deep baselines' default 150 epochs take a second.
    tiny = {} if method in ("supervised", "ssdgm") else {"autoencoder__ae_epochs": 20}
    experiment = Experiment("digits", method, seed=0, normal_class=0, ratio_known_anomaly=0.05, params=tiny)
    record, outcome = run_experiment(experiment, device="cpu")
    assert record.metrics["auroc"] > 0.6 and len(outcome.scores) == 719


def test_the_seed_and_device_reach_nested_estimators():
    from deepsad.experiments.estimators import make_estimator

    hybrid = make_estimator("hybrid-iforest", {"detector__n_estimators": 10}, seed=4, device="cpu")
    params = hybrid.get_params(deep=True)
    assert params["autoencoder__random_state"] == 4 and params["detector__random_state"] == 4
    assert params["autoencoder__device"] == "cpu" and params["detector__n_estimators"] == 10
    assert make_estimator("deepsad", {"random_state": 9}, seed=4).random_state == 9
    # The deep estimators and a hybrid's autoencoder scale raw tables themselves (tasks.py).
    assert params["autoencoder__scaler"] == "auto" and make_estimator("deepsad", {}, seed=0).scaler == "auto"


def test_experiments_run_together_give_the_records_of_separate_runs():
    experiments = [Experiment("digits", "deepsad", seed=s, normal_class=3, ratio_known_anomaly=0.05, params=TINY)
                   for s in range(3)]
    together = run_experiments(experiments, device="cpu")
    for experiment, (record, outcome) in zip(experiments, together):
        alone, alone_outcome = run_experiment(experiment, device="cpu")
        assert record.key == alone.key and record.sizes == alone.sizes
        assert record.history["train"]["models_trained_together"] == 3
        assert record.metrics["auroc"] == pytest.approx(alone.metrics["auroc"], abs=1e-3)
        np.testing.assert_allclose(outcome.scores, alone_outcome.scores, rtol=1e-3, atol=1e-6)
        assert record.seconds["train"] > 0


def test_a_failing_experiment_fails_alone_and_warnings_stay_with_their_experiment(tmp_path):
    unlabeled = Experiment("digits", "hsc", seed=0, normal_class=3, params=TINY)  # HSC warns: no labeled anomaly
    labeled = Experiment("digits", "hsc", seed=1, normal_class=3, ratio_known_anomaly=0.05, params=TINY)
    missing = Experiment("cardio", "hsc", seed=0, ratio_known_anomaly=0.05, params=TINY)  # no data under root
    results = run_experiments([unlabeled, missing, labeled], root=str(tmp_path), device="cpu")
    assert isinstance(results[1], FileNotFoundError)
    assert any("no labeled anomalies" in w for w in results[0][0].warnings)
    assert not any("no labeled anomalies" in w for w in results[2][0].warnings)


def test_runs_that_differ_in_their_labels_share_one_pretraining(tmp_path):
    from deepsad import PretrainingCache

    params = {**TINY, "pretrain_on": "unlabeled"}
    grid = [Experiment("digits", "deepsad", seed=0, normal_class=2, ratio_known_anomaly=ratio, params=params)
            for ratio in (0.05, 0.1)]
    cache = PretrainingCache(tmp_path)
    (first, _), = run_experiments(grid[:1], device="cpu", pretrained=cache)
    (second, outcome), = run_experiments(grid[1:], device="cpu", pretrained=cache)
    assert "loaded" not in first.history["pretrain"] and second.history["pretrain"]["loaded"]
    alone, alone_outcome = run_experiment(grid[1], device="cpu")
    assert second.metrics == alone.metrics
    np.testing.assert_array_equal(outcome.scores, alone_outcome.scores)


def test_an_experiment_whose_record_fails_fails_alone(monkeypatch):
    import deepsad.experiments.runner as runner

    experiments = [Experiment("digits", "deepsad", seed=s, normal_class=3, params=TINY) for s in range(3)]
    evaluate = runner.evaluate
    calls = []

    def failing_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("test scores are not finite")
        return evaluate(*args)

    monkeypatch.setattr(runner, "evaluate", failing_second)
    results = run_experiments(experiments, device="cpu")
    assert isinstance(results[1], ValueError)
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)


@pytest.mark.filterwarnings("ignore:.*collapse:UserWarning")
def test_an_fcdd_experiment_keeps_heatmaps_of_its_most_anomalous_test_images():
    from deepsad.experiments.gallery import GALLERY_SIZE

    experiment = Experiment("digits", "fcdd", seed=0, normal_class=0, ratio_known_anomaly=0.05,
                            params={"epochs": 2, "lr_milestones": [1]})
    record, outcome = run_experiment(experiment, device="cpu")
    assert record.metrics["auroc"] > 0.5
    assert outcome.heatmap_kind == "FCDD heatmap" and outcome.heatmaps.shape == (GALLERY_SIZE, 8, 8)
    # the most anomalous first
    np.testing.assert_array_equal(outcome.heatmap_positions, np.argsort(-outcome.scores, kind="stable")[:GALLERY_SIZE])
    # tables get none
    _, table_outcome = run_experiment(Experiment("digits", "deepsad", normal_class=0, params=TINY), device="cpu")
    assert table_outcome.heatmaps is None


def test_fcdd_is_refused_on_tables():
    with pytest.raises(ValueError, match="method 'fcdd' needs images; 'cardio' is a table"):
        Experiment("cardio", "fcdd")


def test_fcdd_in_a_sweep_with_shared_pretraining_still_makes_its_synthetic_anomalies(tmp_path):
    import warnings

    from deepsad.experiments.tasks import build_task
    from deepsad.models.pretraining_cache import PretrainingCache

    experiment = Experiment("digits", "fcdd", normal_class=0, params={"epochs": 1})
    # digits go to FCDD as images with pixels in [0, 1], as every image set does
    task = build_task(experiment)
    assert task.X_train.shape[1:] == (1, 8, 8) and 0 <= task.X_train.min() and task.X_train.max() <= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the collapse warning of an FCDD without negatives
        (result,) = run_experiments([experiment], device="cpu", pretrained=PretrainingCache(tmp_path))
    record, _ = result
    assert not any("collapse" in w for w in record.warnings)
