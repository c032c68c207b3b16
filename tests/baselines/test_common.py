"""What the shallow baselines share: images are their raw pixel vectors."""

import numpy as np
import pytest

from tests.estimators import CASES

SHALLOW = ["OCSVM", "IsolationForest", "KDE", "SSAD"]


def blob_and_outliers(seed=0, n_normal=200, n_outliers=40):
    """Training: a Gaussian blob; test: fresh blob samples plus a far outlier cluster."""
    rng = np.random.default_rng(seed)
    X_train = rng.normal(size=(n_normal, 3))
    X_test = np.vstack([rng.normal(size=(n_normal, 3)), rng.normal(5.0, 0.5, size=(n_outliers, 3))])
    is_outlier = np.r_[np.zeros(n_normal), np.ones(n_outliers)]
    return X_train, X_test, is_outlier


@pytest.mark.parametrize("name", SHALLOW)
def test_images_are_flattened(name):
    rng = np.random.default_rng(0)
    images = rng.random((60, 1, 3, 3)).astype(np.float32)
    scores_images = CASES[name].make().fit(images).anomaly_score(images)
    scores_vectors = CASES[name].make().fit(images.reshape(60, -1)).anomaly_score(images.reshape(60, -1))
    np.testing.assert_allclose(scores_images, scores_vectors, rtol=1e-6, atol=1e-9)
