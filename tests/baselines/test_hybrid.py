import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from deepsad.baselines import KDE, OCSVM, SSAD, Hybrid, IsolationForest
from deepsad.models import Autoencoder
from tests.estimators import AUTOENCODER


def small_autoencoder(**overrides):
    return Autoencoder(**{**AUTOENCODER, **overrides})


def hybrid(detector=None, **overrides):
    return Hybrid(SSAD() if detector is None else detector, autoencoder=small_autoencoder(), **overrides)


def test_the_detector_sees_the_autoencoder_codes(blobs):
    X, y, _ = blobs
    model = hybrid().fit(X, y)
    assert model.detector_.n_features_in_ == model.autoencoder_.rep_dim_ == 8
    codes = model.autoencoder_.encode(X)
    np.testing.assert_array_equal(model.anomaly_score(X), model.detector_.anomaly_score(codes))


def test_autoencoder_trains_without_the_known_anomalies(blobs):
    X, y, _ = blobs
    model = hybrid().fit(X, y)
    alone = small_autoencoder().fit(X[y != -1])
    np.testing.assert_array_equal(model.autoencoder_.encode(X), alone.encode(X))


@pytest.mark.parametrize(
    "detector",
    [OCSVM(), SSAD(), KDE(random_state=0), IsolationForest(random_state=0)],
    ids=lambda detector: type(detector).__name__,
)
def test_separates_the_anomaly_cluster(blobs, detector):
    X, y, truth = blobs
    autoencoder = small_autoencoder(ae_epochs=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = Hybrid(detector, autoencoder=autoencoder).fit(X, y)
    assert roc_auc_score(truth, model.anomaly_score(X)) > 0.9


def test_ssad_hybrid_uses_the_labels(blobs):
    X, y, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labeled = hybrid(SSAD()).fit(X, y)
    unlabeled = hybrid(SSAD()).fit(X)
    # The labels reach SSAD: a margin pushes the known anomalies' codes out of the sphere.
    assert labeled.detector_.margin_ > 0 and unlabeled.detector_.margin_ == 0
    assert np.all(labeled.predict(X[y == -1]) == -1)
    assert not np.array_equal(labeled.anomaly_score(X), unlabeled.anomaly_score(X))


def test_unsupervised_detector_says_it_ignores_labels(blobs):
    X, y, _ = blobs
    with pytest.warns(UserWarning, match="OCSVM is unsupervised and ignores labels"):
        hybrid(OCSVM()).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hybrid(OCSVM()).fit(X)


# -------------------------------------------------------------- threshold
def test_auto_threshold_is_the_detectors(blobs):
    X, y, _ = blobs
    model = hybrid(KDE(random_state=0, contamination=0.2)).fit(X[y != -1])
    assert model.threshold_ == model.detector_.threshold_
    assert np.mean(model.predict(X[y != -1]) == -1) == pytest.approx(0.2, abs=0.01)


# ----------------------------------------------------- scikit-learn conventions
def test_nested_parameters_and_clone():
    model = Hybrid(OCSVM(nu=0.1), autoencoder=Autoencoder(rep_dim=4))
    params = model.get_params()
    assert params["detector__nu"] == 0.1 and params["autoencoder__rep_dim"] == 4
    model.set_params(detector__nu=0.3, autoencoder__ae_epochs=7)
    copy = clone(model)
    assert copy.detector is not model.detector and copy.detector.nu == 0.3
    assert copy.autoencoder.ae_epochs == 7


def test_fit_leaves_the_given_components_unfitted(blobs):
    X, y, _ = blobs
    detector, autoencoder = SSAD(), small_autoencoder()
    model = Hybrid(detector, autoencoder=autoencoder).fit(X, y)
    assert not hasattr(detector, "alpha_") and not hasattr(autoencoder, "encoder_")
    assert model.detector_ is not detector and model.autoencoder_ is not autoencoder


def test_defaults_are_an_ocsvm_on_a_fresh_autoencoder():
    X = np.random.default_rng(0).normal(size=(30, 3))
    model = Hybrid().fit(X)
    assert type(model.detector_) is OCSVM and type(model.autoencoder_) is Autoencoder
    assert model.autoencoder_.get_params() == Autoencoder().get_params()


def test_images_are_encoded_by_the_autoencoder():
    images = np.random.default_rng(0).random((40, 1, 4, 4)).astype(np.float32)
    model = hybrid(OCSVM()).fit(images)
    assert model.input_shape_ == (1, 4, 4)
    assert model.anomaly_score(images).shape == (40,)
    assert model.detector_.n_features_in_ == model.autoencoder_.rep_dim_


