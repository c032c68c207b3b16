import numpy as np
import pytest

from deepsad import DeepSVDD
from tests.conftest import FAST


@pytest.mark.parametrize("nu", [0.05, 0.1, 0.3])
def test_soft_boundary_nu_property(nu):
    X = np.random.default_rng(0).normal(size=(400, 5)).astype(np.float32)
    model = DeepSVDD(objective="soft-boundary", nu=nu, epochs=15, ae_epochs=3, random_state=0).fit(X)
    scores = model.anomaly_score(X)  # d − R²: positive outside the sphere
    outside = np.mean(scores > 0)
    assert outside <= nu + 1 / 400
    assert np.mean(scores >= -1e-6) >= nu - 1 / 400
    assert model.radius_ > 0
    assert len(model.history_["radius"]) >= 2  # re-solved during training and after it


def test_soft_boundary_auto_threshold_is_the_sphere():
    X = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    model = DeepSVDD(objective="soft-boundary", nu=0.2, **FAST).fit(X)
    assert model.threshold_ == 0.0
    np.testing.assert_array_equal(model.predict(X) == -1, model.anomaly_score(X) > 0)


def test_one_class_has_no_radius_and_scores_are_distances(blobs):
    X, _, _ = blobs
    model = DeepSVDD(**FAST).fit(X)
    assert model.radius_ == 0.0
    assert np.all(model.anomaly_score(X) >= 0)
