"""The estimator contract every shallow baseline keeps: verbs, labels, input errors, sanity."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from deepsad.baselines import KDE, OCSVM, SSAD, IsolationForest

# Fast settings; each factory gives a fresh, seeded estimator.
FACTORIES = {
    "OCSVM": lambda **kw: OCSVM(**{"nu": 0.1, **kw}),
    "IsolationForest": lambda **kw: IsolationForest(**{"n_estimators": 50, "random_state": 0, **kw}),
    "KDE": lambda **kw: KDE(**{"random_state": 0, **kw}),
    "SSAD": lambda **kw: SSAD(**kw),
}
UNSUPERVISED = ["OCSVM", "IsolationForest", "KDE"]


def blob_and_outliers(seed=0, n_normal=200, n_outliers=40):
    """Training: a Gaussian blob; test: fresh blob samples plus a far outlier cluster."""
    rng = np.random.default_rng(seed)
    X_train = rng.normal(size=(n_normal, 3))
    X_test = np.vstack([rng.normal(size=(n_normal, 3)), rng.normal(5.0, 0.5, size=(n_outliers, 3))])
    is_outlier = np.r_[np.zeros(n_normal), np.ones(n_outliers)]
    return X_train, X_test, is_outlier


@pytest.fixture(params=list(FACTORIES))
def name(request):
    return request.param


def test_verbs_have_the_right_shapes_and_signs(name):
    X_train, X_test, _ = blob_and_outliers()
    model = FACTORIES[name]().fit(X_train)
    scores = model.anomaly_score(X_test)
    assert scores.shape == (X_test.shape[0],)
    assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(model.score_samples(X_test), -scores)
    np.testing.assert_allclose(model.decision_function(X_test), model.threshold_ - scores)
    predictions = model.predict(X_test)
    assert set(np.unique(predictions)) == {-1, 1}
    assert model.n_features_in_ == 3


def test_toy_outlier_cluster_is_found(name):
    X_train, X_test, is_outlier = blob_and_outliers()
    model = FACTORIES[name]().fit(X_train)
    assert roc_auc_score(is_outlier, model.anomaly_score(X_test)) > 0.95
    # Every far outlier is flagged by the threshold chosen at fit time.
    assert np.all(model.predict(X_test)[is_outlier == 1] == -1)


def test_same_random_state_same_scores(name):
    X_train, X_test, _ = blob_and_outliers()
    first = FACTORIES[name]().fit(X_train).anomaly_score(X_test)
    second = FACTORIES[name]().fit(X_train).anomaly_score(X_test)
    np.testing.assert_array_equal(first, second)


def test_random_state_matters_for_isolation_forest():
    X_train, X_test, _ = blob_and_outliers()
    first = IsolationForest(n_estimators=20, random_state=0).fit(X_train).anomaly_score(X_test)
    second = IsolationForest(n_estimators=20, random_state=1).fit(X_train).anomaly_score(X_test)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("contamination", [0.1, 0.25])
def test_contamination_sets_the_training_flag_rate(name, contamination):
    X_train, _, _ = blob_and_outliers()
    model = FACTORIES[name](contamination=contamination).fit(X_train)
    flagged = np.mean(model.predict(X_train) == -1)
    assert abs(flagged - contamination) <= 0.02


def test_images_are_flattened(name):
    rng = np.random.default_rng(0)
    images = rng.random((60, 1, 3, 3)).astype(np.float32)
    scores_images = FACTORIES[name]().fit(images).anomaly_score(images)
    scores_vectors = FACTORIES[name]().fit(images.reshape(60, -1)).anomaly_score(images.reshape(60, -1))
    np.testing.assert_allclose(scores_images, scores_vectors, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------ labels
def labeled_training_set(seed=0):
    """A blob, polluted by five samples of the outlier cluster that an expert labeled -1,
    plus five known normals."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(200, 3)), rng.normal(5.0, 0.5, size=(5, 3))])
    y = np.r_[np.zeros(195), np.ones(5), -np.ones(5)].astype(int)
    return X, y


@pytest.mark.parametrize("name", UNSUPERVISED)
def test_unsupervised_methods_drop_known_anomalies_and_warn(name):
    X, y = labeled_training_set()
    _, X_test, _ = blob_and_outliers()
    with pytest.warns(UserWarning, match="ignores labels"):
        with_labels = FACTORIES[name]().fit(X, y)
    without_anomalies = FACTORIES[name]().fit(X[y != -1])
    np.testing.assert_array_equal(with_labels.anomaly_score(X_test), without_anomalies.anomaly_score(X_test))


@pytest.mark.parametrize("name", UNSUPERVISED)
def test_unsupervised_methods_do_not_warn_without_labels(name):
    X, _ = labeled_training_set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FACTORIES[name]().fit(X)
        FACTORIES[name]().fit(X, np.zeros(len(X)))


def test_ssad_uses_labels():
    X, y = labeled_training_set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SSAD().fit(X, y)
    unlabeled = SSAD().fit(X)
    anomalies = X[y == -1]
    # Unlabeled, the hard boundary (C = 1) must enclose the polluting samples; labeled -1,
    # they lie outside the sphere, by the margin γ > 0.
    assert np.all(unlabeled.anomaly_score(anomalies) <= 1e-6)
    assert model.margin_ > 0
    assert np.all(model.anomaly_score(anomalies) >= model.margin_ - 1e-6)
    assert np.all(model.predict(anomalies) == -1)


# --------------------------------------------------------------- bad input
def test_nan_in_X_is_rejected(name):
    X_train, _, _ = blob_and_outliers()
    X_train[3, 1] = np.nan
    with pytest.raises(ValueError, match="X"):
        FACTORIES[name]().fit(X_train)


def test_wrong_number_of_features_at_predict(name):
    X_train, _, _ = blob_and_outliers()
    model = FACTORIES[name]().fit(X_train)
    with pytest.raises(ValueError, match="X has"):
        model.predict(X_train[:, :2])


def test_nan_at_predict_is_rejected(name):
    X_train, _, _ = blob_and_outliers()
    model = FACTORIES[name]().fit(X_train)
    X_bad = X_train[:5].copy()
    X_bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="X"):
        model.anomaly_score(X_bad)


@pytest.mark.parametrize("bad_labels", [[2], [0.5], ["a"]])
def test_labels_outside_the_three_values_are_rejected(name, bad_labels):
    X_train, _, _ = blob_and_outliers()
    y = np.zeros(len(X_train), dtype=object if bad_labels == ["a"] else float)
    y[0] = bad_labels[0]
    with pytest.raises(ValueError, match="^y must"):
        FACTORIES[name]().fit(X_train, y)


def test_labels_of_the_wrong_length_are_rejected(name):
    X_train, _, _ = blob_and_outliers()
    with pytest.raises(ValueError, match="^y has"):
        FACTORIES[name]().fit(X_train, np.zeros(len(X_train) - 1))


def test_only_known_anomalies_is_rejected(name):
    X_train, _, _ = blob_and_outliers()
    with pytest.raises(ValueError, match="^y labels every sample"):
        FACTORIES[name]().fit(X_train, -np.ones(len(X_train)))


@pytest.mark.parametrize(
    "name, parameter, value",
    [
        ("OCSVM", "nu", 0.0),
        ("OCSVM", "gamma", "auto"),
        ("IsolationForest", "max_samples", 0),
        ("KDE", "bandwidth", -1.0),
        ("KDE", "rtol", -1e-3),
        ("SSAD", "C", 0.0),
        ("SSAD", "kappa", -1.0),
        ("SSAD", "contamination", 0.7),
    ],
)
def test_invalid_parameters_are_named(name, parameter, value):
    X_train, _, _ = blob_and_outliers()
    with pytest.raises(ValueError, match=f"'{parameter}' parameter"):
        FACTORIES[name](**{parameter: value}).fit(X_train)


def test_kde_cross_validation_needs_enough_samples():
    with pytest.raises(ValueError, match="cv=5"):
        KDE().fit(np.zeros((3, 2)) + np.arange(3)[:, None])
    assert KDE(bandwidth=0.5).fit(np.arange(6.0).reshape(3, 2)).bandwidth_ == 0.5


def test_kde_bandwidth_is_chosen_inside_its_grid():
    X_train, _, _ = blob_and_outliers()
    model = KDE(random_state=0).fit(X_train)
    assert model.bandwidth_grid_[0] < model.bandwidth_ < model.bandwidth_grid_[-1]


def test_kde_tolerance_changes_the_scores_by_about_that_fraction():
    X_train, X_test, _ = blob_and_outliers()
    exact = KDE(random_state=0, rtol=0.0).fit(X_train)
    default = KDE(random_state=0).fit(X_train)
    assert default.bandwidth_ == exact.bandwidth_
    exact_scores, default_scores = exact.anomaly_score(X_test), default.anomaly_score(X_test)
    assert np.allclose(default_scores, exact_scores, rtol=1e-6, atol=1e-6)
    loose = KDE(random_state=0, rtol=0.5, bandwidth=exact.bandwidth_).fit(X_train).anomaly_score(X_test)
    assert not np.allclose(loose, exact_scores, rtol=1e-6, atol=1e-6)  # the tolerance reaches sklearn
