import numpy as np
import pytest
from sklearn.base import BaseEstimator

from deepsad.baselines import IsolationForest
from deepsad.decisions import CalibratedDetector
from deepsad.labels import ANOMALY, UNLABELED


class NearestNeighbour(BaseEstimator):
    """Distance to the nearest training sample: training samples score 0, so a threshold
    chosen on the training scores is far too low, and one chosen on held-out scores is right."""

    def fit(self, X, y=None):
        self.X_ = np.asarray(X, dtype=float)
        return self

    def anomaly_score(self, X):
        X = np.asarray(X, dtype=float)
        distances = ((X[:, None, :] - self.X_[None, :, :]) ** 2).sum(-1)
        return np.sqrt(distances.min(axis=1))


def test_conformal_false_alarm_rate_holds_over_many_seeds_and_the_training_percentile_does_not():
    alpha, seeds, n_test = 0.1, 200, 200
    conformal, percentile, smallest = [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        X, X_test = rng.normal(size=(300, 2)), rng.normal(size=(n_test, 2))
        model = CalibratedDetector(NearestNeighbour(), threshold=f"fpr:{alpha}", calibration_size=0.33,
                                   random_state=seed).fit(X)
        conformal.append(np.mean(model.predict(X_test) == -1))
        smallest.append(np.mean(model.predict(X_test, alpha=alpha) == -1))
        fitted = NearestNeighbour().fit(X)  # the usual way: threshold at the training scores' 90th percentile
        percentile.append(np.mean(fitted.anomaly_score(X_test) > np.percentile(fitted.anomaly_score(X), 90)))
    # the marginal rate is ≤ α; over 200 seeds its mean is known to about ±0.003
    assert np.mean(conformal) <= alpha + 0.01
    assert np.mean(smallest) <= alpha + 0.01
    assert np.mean(conformal) >= alpha - 0.03  # and not needlessly conservative
    assert np.mean(percentile) > 0.9  # every test point is farther from the data than training points are


def test_benjamini_hochberg_controls_the_false_discovery_rate():
    q, proportions = 0.2, []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        model = CalibratedDetector(NearestNeighbour(), calibration_size=0.5, random_state=seed).fit(
            rng.normal(size=(400, 2)))
        batch = np.vstack([rng.normal(size=(90, 2)), rng.normal(4.0, 1.0, size=(10, 2))])
        flagged = model.predict(batch, fdr=q) == -1
        proportions.append(flagged[:90].sum() / max(1, flagged.sum()))
    assert np.mean(proportions) <= q + 0.03


@pytest.mark.filterwarnings("ignore:IsolationForest is unsupervised:UserWarning")
def test_threshold_info_and_the_sklearn_verbs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(400, 3)), rng.normal(5, 1, size=(20, 3))])
    y = np.r_[np.full(400, UNLABELED), np.full(20, ANOMALY)]
    model = CalibratedDetector(IsolationForest(random_state=0), threshold="recall:0.8", random_state=0).fit(X, y)
    info = model.threshold_info_
    assert info.strategy == "recall:0.8" and set(info.estimates) == {"false_alarm_rate", "recall", "precision"}
    assert info.estimates["recall"][0] >= 0.8
    assert "threshold" in info.describe() and "recall" in info.describe()
    assert len(model.calibration_scores_) == 80  # 20% of the 400 unlabeled; 4 of the 20 anomalies calibrate
    assert np.all(np.diff(model.calibration_scores_) >= 0)
    scores = model.anomaly_score(X)
    np.testing.assert_array_equal(model.score_samples(X), -scores)
    np.testing.assert_array_equal(model.predict(X), np.where(scores > model.threshold_, -1, 1))
    np.testing.assert_allclose(model.decision_function(X), model.threshold_ - scores)
    assert model.get_params()["threshold"] == "recall:0.8"


def test_a_given_calibration_set_is_used_whole():
    rng = np.random.default_rng(1)
    X, X_cal = rng.normal(size=(200, 2)), rng.normal(size=(50, 2))
    model = CalibratedDetector(NearestNeighbour(), threshold="fpr:0.1").fit(X, X_calibration=X_cal)
    assert len(model.calibration_scores_) == 50 and len(model.detector_.X_) == 200


def test_dataframes_keep_their_columns_through_the_split():
    pandas = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    frame = pandas.DataFrame(rng.normal(size=(100, 2)), columns=["a", "b"])
    model = CalibratedDetector(IsolationForest(random_state=0), random_state=0).fit(frame)
    assert model.predict(frame).shape == (100,)


@pytest.mark.parametrize(
    "kwargs, fit_kwargs, message",
    [
        ({"threshold": "recall:0.9"}, {}, r"needs labeled anomalies in both parts .* y has 0"),
        ({"threshold": "f1"}, {"y": np.r_[np.zeros(99, int), -1]}, "y has 1"),
        ({"calibration_size": 1.0}, {}, r"calibration_size must be a number in \(0, 1\)"),
        ({"calibration_size": 0.001}, {}, "leaves 0 for calibration"),
        ({"threshold": "fpr:0.01"}, {}, r"a calibration set of 20 normal samples supports .* α = 0.01 needs at least 99"),
        ({}, {"y_calibration": np.zeros(5)}, "y_calibration was given without X_calibration"),
        ({}, {"X_calibration": np.zeros((30, 2)), "y_calibration": np.zeros(10)},
         "y_calibration has 10 labels but X_calibration has 30 samples"),
        ({}, {"X_calibration": np.zeros((30, 2)), "y_calibration": np.zeros(30, bool)},
         r"y_calibration holds booleans.*from_binary\(y_calibration, anomaly=True\)"),
        ({"threshold": "colour"}, {}, "unknown threshold strategy 'colour'"),
    ],
)
def test_fit_errors_name_the_problem(kwargs, fit_kwargs, message):
    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match=message):
        CalibratedDetector(NearestNeighbour(), **kwargs).fit(X, **fit_kwargs)


def test_predict_levels_are_checked():
    X = np.random.default_rng(0).normal(size=(100, 2))
    model = CalibratedDetector(NearestNeighbour(), random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"alpha must be a number in \(0, 1\); got 1.5"):
        model.predict(X, alpha=1.5)
    with pytest.raises(ValueError, match=r"fdr must be a number in \(0, 1\)"):
        model.predict(X, fdr=0)
    with pytest.raises(ValueError, match="not both"):
        model.predict(X, alpha=0.1, fdr=0.1)
    with pytest.raises(ValueError, match=r"alpha = 0.01 is below the smallest p-value .* 20 samples, 1/\(n \+ 1\) = 0.0476"):
        model.predict(X, alpha=0.01)
    with pytest.raises(TypeError, match="detector must have an anomaly_score method"):
        CalibratedDetector(BaseEstimator()).fit(X)


@pytest.fixture
def calibrated_deepsad():
    from deepsad import DeepSAD

    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(300, 4)), rng.normal(3, 1, size=(10, 4))])
    y = np.r_[np.full(300, UNLABELED), np.full(10, ANOMALY)]
    model = CalibratedDetector(DeepSAD(epochs=2, ae_epochs=2, random_state=0), threshold="recall:0.5",
                               random_state=0).fit(X, y)
    return model, X


def test_a_calibrated_model_file_round_trips(calibrated_deepsad, tmp_path):
    import deepsad

    model, X = calibrated_deepsad
    model.save(tmp_path / "m.safetensors")
    loaded = deepsad.load(tmp_path / "m.safetensors")
    assert isinstance(loaded, CalibratedDetector)
    np.testing.assert_array_equal(loaded.anomaly_score(X), model.anomaly_score(X))
    np.testing.assert_array_equal(loaded.p_value(X), model.p_value(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.threshold_info_ == model.threshold_info_
    assert loaded.get_params()["threshold"] == "recall:0.5"


def test_a_calibrated_file_is_refused_where_only_the_detector_would_be_read(calibrated_deepsad, tmp_path):
    from deepsad.models import load_model

    model, _ = calibrated_deepsad
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="holds a model with a 'CalibratedDetector' around it; load it with deepsad.load"):
        load_model(tmp_path / "m.safetensors")


def test_a_forged_calibration_is_refused(calibrated_deepsad, tmp_path, monkeypatch):
    import deepsad
    from deepsad.decisions import calibrated as calibrated_module

    model, _ = calibrated_deepsad
    original = calibrated_module.save_model

    def forge(detector, path, extension):
        name, entry, tensors = extension
        original(detector, path, extension=(name, entry, {"calibration_scores": tensors["calibration_scores"].flip(0)}))

    monkeypatch.setattr(calibrated_module, "save_model", forge)
    model.save(tmp_path / "m.safetensors")  # a valid checksum over unsorted scores
    with pytest.raises(ValueError, match="m.safetensors: the calibration scores must be finite and sorted"):
        deepsad.load(tmp_path / "m.safetensors")


def test_saving_needs_a_fitted_model_and_a_savable_detector(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        CalibratedDetector(IsolationForest()).save(tmp_path / "m")
    model = CalibratedDetector(NearestNeighbour(), random_state=0).fit(np.random.default_rng(0).normal(size=(200, 2)))
    with pytest.raises(TypeError, match="NearestNeighbour cannot be saved to a model file"):
        model.save(tmp_path / "m")


def test_a_calibration_set_too_small_is_refused_before_the_training():
    class Untrainable(NearestNeighbour):
        def fit(self, X, y=None):
            raise AssertionError("trained although the calibration set cannot serve")

    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match="α = 0.01 needs at least 99 samples"):
        CalibratedDetector(Untrainable(), threshold="fpr:0.01").fit(X)
    with pytest.raises(ValueError, match="needs labeled anomalies"):
        CalibratedDetector(Untrainable(), threshold="f1").fit(X[:50], X_calibration=X[50:])


@pytest.mark.filterwarnings("ignore:DeepSVDD is unsupervised:UserWarning")
def test_the_soft_boundary_threshold_is_the_fitted_sphere_and_survives_a_model_file(tmp_path):
    import deepsad
    from deepsad import DeepSVDD

    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(size=(300, 4)), rng.normal(3, 1, size=(10, 4))])
    y = np.r_[np.full(300, UNLABELED), np.full(10, ANOMALY)]
    model = CalibratedDetector(DeepSVDD(objective="soft-boundary", nu=0.1, epochs=12, ae_epochs=2, random_state=0),
                               threshold="soft-boundary", random_state=0).fit(X, y)
    sphere = model.detector_
    assert sphere.radius_ > 0 and model.threshold_ == sphere.model_.natural_threshold == 0.0
    # flagged exactly outside the sphere: ‖φ(x) − c‖² > R²
    distances = ((sphere.encode(X) - sphere.center_.numpy()) ** 2).sum(axis=1)
    outside = distances - sphere.radius_**2 > 0
    np.testing.assert_array_equal(model.predict(X) == -1, outside)
    info = model.threshold_info_
    assert info.strategy == "soft-boundary" and info.estimates["false_alarm_rate"][0] == pytest.approx(
        np.mean(model.calibration_scores_ > 0))
    model.save(tmp_path / "m.safetensors")
    loaded = deepsad.load(tmp_path / "m.safetensors")
    assert loaded.get_params()["threshold"] == "soft-boundary" and loaded.threshold_info_ == info
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("detector, name", [
    ("DeepSAD", "DeepSAD"), ("DeepSVDD", r"DeepSVDD\(objective='one-class'\)"), ("nearest", "NearestNeighbour")])
def test_a_soft_boundary_threshold_without_a_sphere_is_refused_before_the_training(detector, name, monkeypatch):
    import deepsad

    def never(self, X, y=None):
        raise AssertionError("trained although the threshold cannot be taken from this detector")

    detector = NearestNeighbour() if detector == "nearest" else getattr(deepsad, detector)()
    monkeypatch.setattr(type(detector), "fit", never)
    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match=f"threshold soft-boundary is the sphere .* {name} learns no such radius"):
        CalibratedDetector(detector, threshold="soft-boundary").fit(X)


@pytest.mark.filterwarnings("ignore:IsolationForest is unsupervised:UserWarning")
def test_precision_at_recall_is_chosen_on_the_calibration_part():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(400, 3)), rng.normal(2, 1, size=(40, 3))])
    y = np.r_[np.full(400, UNLABELED), np.full(40, ANOMALY)]
    model = CalibratedDetector(IsolationForest(random_state=0), threshold="precision@recall:0.75",
                               random_state=0).fit(X, y)
    info = model.threshold_info_
    assert info.strategy == "precision@recall:0.75" and set(info.estimates) == {"false_alarm_rate", "recall", "precision"}
    assert info.estimates["recall"][0] >= 0.75
    recall_only = CalibratedDetector(IsolationForest(random_state=0), threshold="recall:0.75", random_state=0).fit(X, y)
    # on the same calibration part, recall:0.75's cut is one of the candidates: at least its
    # recall (it is the highest cut with enough) and at least its precision
    assert model.threshold_ <= recall_only.threshold_
    for rate in ("recall", "precision"):
        assert info.estimates[rate][0] >= recall_only.threshold_info_.estimates[rate][0]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_thresholds_page_shows_what_each_strategy_reports():
    import doctest
    from pathlib import Path

    page = Path(__file__).parents[2] / "docs" / "thresholds.md"
    result = doctest.testfile(str(page), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} examples of {page.name} failed (output above)"
