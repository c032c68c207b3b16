"""Anomaly probabilities: Platt scaling on the calibration's labeled anomalies, moved to the
prevalence by Bayes' rule — checked against a known posterior, its errors and its model file."""

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import BaseEstimator

from deepsad.decisions import CalibratedDetector, PlattScaling
from deepsad.labels import ANOMALY, UNLABELED


class FirstColumn(BaseEstimator):
    """Scores a sample by its first feature: the score distributions are the data's."""

    def fit(self, X, y=None):
        return self

    def anomaly_score(self, X):
        return np.asarray(X, dtype=float)[:, 0]


def normal_and_anomalies(rng, n_normal, n_anomalies):
    # Normal scores N(0, 1), anomaly scores N(2, 1): the log-likelihood ratio is 2s − 2.
    return rng.normal(0, 1, size=(n_normal, 1)), rng.normal(2, 1, size=(n_anomalies, 1))


@pytest.mark.parametrize("prevalence", [0.01, 0.1, 0.5])
def test_probabilities_match_the_true_posterior_at_any_prevalence(prevalence):
    rng = np.random.default_rng(0)
    normal, anomalous = normal_and_anomalies(rng, 20000, 3000)  # enough to pin the fit down
    model = CalibratedDetector(FirstColumn(), probability=True, calibration_size=0.5, random_state=0).fit(
        np.vstack([normal, anomalous]), np.r_[np.full(20000, UNLABELED), np.full(3000, ANOMALY)])
    grid = np.linspace(-3, 5, 81)[:, None]
    truth = expit(2 * grid[:, 0] - 2 + np.log(prevalence / (1 - prevalence)))
    estimated = model.anomaly_probability(grid, prevalence=prevalence)
    assert np.max(np.abs(estimated - truth)) < 0.06
    assert np.all(np.diff(estimated) > 0)


def test_probabilities_are_calibrated_on_data_drawn_at_the_prevalence():
    # Reliability over many seeds: among new samples, the mean probability is the anomaly fraction.
    prevalence, gaps = 0.05, []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        normal, anomalous = normal_and_anomalies(rng, 1000, 40)
        model = CalibratedDetector(FirstColumn(), probability=True, calibration_size=0.5, random_state=seed).fit(
            np.vstack([normal, anomalous]), np.r_[np.full(1000, UNLABELED), np.full(40, ANOMALY)])
        is_anomaly = rng.random(4000) < prevalence
        X_new = np.where(is_anomaly[:, None], rng.normal(2, 1, size=(4000, 1)), rng.normal(0, 1, size=(4000, 1)))
        probabilities = model.anomaly_probability(X_new, prevalence=prevalence)
        flagged = probabilities > 0.5
        gaps.append(probabilities.mean() - is_anomaly.mean())
        if flagged.any():  # where it says "more likely than not", it is right more often than not
            assert is_anomaly[flagged].mean() > 0.35
    assert abs(np.mean(gaps)) < 0.01


def test_a_higher_prevalence_gives_higher_probabilities_and_the_order_of_the_scores():
    rng = np.random.default_rng(1)
    normal, anomalous = normal_and_anomalies(rng, 300, 20)
    model = CalibratedDetector(FirstColumn(), probability=True, random_state=0).fit(
        np.vstack([normal, anomalous]), np.r_[np.zeros(300), -np.ones(20)])
    X = rng.normal(1, 2, size=(50, 1))
    low, high = model.anomaly_probability(X, prevalence=0.01), model.anomaly_probability(X, prevalence=0.3)
    assert np.all(high > low) and np.all((low > 0) & (high < 1))
    np.testing.assert_array_equal(np.argsort(low), np.argsort(model.anomaly_score(X)))
    assert model.probability_.n_anomalies == 4 and model.probability_.n_normal == 60  # 20% of each calibrate


def test_probability_errors_name_the_problem():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 1))
    with pytest.raises(ValueError, match=r"needs labeled anomalies in both parts .* y has 0"):
        CalibratedDetector(FirstColumn(), probability=True).fit(X)
    with pytest.raises(ValueError, match="y_calibration has none"):
        CalibratedDetector(FirstColumn(), probability=True).fit(X, X_calibration=X[:20])
    with pytest.raises(ValueError, match="probability must be True or False"):
        CalibratedDetector(FirstColumn(), probability="yes").fit(X)
    plain = CalibratedDetector(FirstColumn(), random_state=0).fit(X)
    with pytest.raises(ValueError, match="fitted with probability=False"):
        plain.anomaly_probability(X, prevalence=0.1)
    y = np.r_[np.zeros(96), -np.ones(4)]
    model = CalibratedDetector(FirstColumn(), probability=True, random_state=0).fit(X + 3 * (y == -1)[:, None], y)
    for prevalence in (0, 1, 1.5, True, "0.1", None):
        with pytest.raises(ValueError, match=r"prevalence must be the expected fraction .* in \(0, 1\)"):
            model.anomaly_probability(X, prevalence=prevalence)


def test_anomalies_scored_below_the_normals_are_warned_about():
    rng = np.random.default_rng(3)
    with pytest.warns(UserWarning, match="do not score higher than its normal samples"):
        platt = PlattScaling.fit(rng.normal(2, 1, 200), rng.normal(0, 1, 20))
    # and again at every use: a model loaded from a file never showed its fit's warning
    with pytest.warns(UserWarning, match="do not score higher than its normal samples"):
        platt.probability([0.0, 1.0], 0.1)


def test_a_flat_fit_gives_an_infinite_score_a_probability_not_nan():
    import warnings

    flat = PlattScaling(slope=0.0, intercept=-1.0, n_normal=10, n_anomalies=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        probabilities = flat.probability([np.inf, 0.0, -np.inf], 0.5)
    np.testing.assert_allclose(probabilities, expit(-1.0))
    steep = PlattScaling(slope=2.0, intercept=0.0, n_normal=10, n_anomalies=2)
    assert steep.probability([np.inf, -np.inf], 0.5).tolist() == [1.0, 0.0]


def test_perfectly_separated_classes_give_a_finite_fit():
    platt = PlattScaling.fit(np.linspace(0, 1, 50), np.array([10.0, 11.0]))
    assert np.isfinite(platt.slope) and platt.slope > 0
    # two anomalies are evidence, not certainty: the penalty keeps the far side short of 1
    normal_like, anomaly_like = platt.probability([0.5, 10.5], 0.5)
    assert normal_like < 0.2 and 0.8 < anomaly_like < 0.99
    rare_normal, rare_anomaly = platt.probability([0.5, 10.5], 0.01)
    assert rare_normal < 0.01 and rare_anomaly > 10 * rare_normal


@pytest.mark.filterwarnings("ignore:.*collapse:UserWarning")
def test_a_probability_survives_the_model_file(tmp_path, monkeypatch):
    import deepsad
    from deepsad import DeepSAD
    from deepsad.decisions import calibrated as calibrated_module

    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(size=(300, 4)), rng.normal(3, 1, size=(10, 4))])
    y = np.r_[np.full(300, UNLABELED), np.full(10, ANOMALY)]
    model = CalibratedDetector(DeepSAD(epochs=2, ae_epochs=2, random_state=0), probability=True,
                               random_state=0).fit(X, y)
    model.save(tmp_path / "m.safetensors")
    loaded = deepsad.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.anomaly_probability(X, prevalence=0.03),
                                  model.anomaly_probability(X, prevalence=0.03))
    assert loaded.get_params()["probability"] is True and loaded.probability_ == model.probability_

    original = calibrated_module.save_model

    def forge(entry_change):
        def save(detector, path, extension):
            name, entry, tensors = extension
            entry = entry_change(dict(entry, params=dict(entry["params"])))
            original(detector, path, extension=(name, entry, tensors))
        return save

    def drop_probability(entry):  # a file written before probabilities existed
        del entry["params"]["probability"]
        entry.pop("probability", None)
        return entry

    plain = CalibratedDetector(DeepSAD(epochs=1, ae_epochs=1, random_state=0), random_state=0).fit(X, y)
    monkeypatch.setattr(calibrated_module, "save_model", forge(drop_probability))
    plain.save(tmp_path / "old.safetensors")
    assert deepsad.load(tmp_path / "old.safetensors").probability_ is None

    def disagree(entry):
        entry["params"]["probability"] = False
        return entry

    monkeypatch.setattr(calibrated_module, "save_model", forge(disagree))
    model.save(tmp_path / "forged.safetensors")
    with pytest.raises(ValueError, match="forged.safetensors: .*probability parameter and its fitted probability disagree"):
        deepsad.load(tmp_path / "forged.safetensors")


def test_a_model_saved_after_set_params_still_loads(tmp_path):
    import deepsad
    from deepsad import DeepSAD

    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(size=(200, 3)), rng.normal(3, 1, size=(10, 3))])
    y = np.r_[np.zeros(200), -np.ones(10)]
    model = CalibratedDetector(DeepSAD(epochs=1, ae_epochs=1, random_state=0), probability=True,
                               random_state=0).fit(X, y)
    model.set_params(probability=False)  # the fitted calibration is what the file holds
    model.save(tmp_path / "m.safetensors")
    loaded = deepsad.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.anomaly_probability(X, prevalence=0.05),
                                  model.anomaly_probability(X, prevalence=0.05))


def test_probability_without_enough_labeled_anomalies_says_what_needs_them():
    X = np.random.default_rng(6).normal(size=(100, 1))
    with pytest.raises(ValueError, match=r"probability=True needs labeled anomalies .* y has 0.* or use p_value"):
        CalibratedDetector(FirstColumn(), probability=True).fit(X)
