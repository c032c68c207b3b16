import numpy as np
import pytest

from deepsad.baselines import KDE
from tests.baselines.test_common import blob_and_outliers


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
