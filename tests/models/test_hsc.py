import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from deepsad import HSC
from tests.conftest import FAST


def test_squared_radial_function_separates_too(blobs):
    # The default pseudo-Huber h is under the contract suite; this is the other choice.
    X, y, truth = blobs
    model = HSC(h="squared", epochs=30, ae_epochs=5, lr=1e-3, random_state=0).fit(X, y)
    scores = model.anomaly_score(X)
    assert np.all(scores >= 0)
    assert roc_auc_score(truth, scores) > 0.95


def test_hsc_learns_its_center(blobs):
    X, y, _ = blobs
    model = HSC(**{**FAST, "epochs": 0}).fit(X, y)
    initial = model.center_.clone()
    trained = HSC(**{**FAST, "lr": 1e-2}).fit(X, y)
    assert not np.allclose(initial.numpy(), trained.center_.numpy())


def test_hsc_warns_without_labeled_anomalies(blobs):
    X, _, _ = blobs
    with pytest.warns(UserWarning, match="no labeled anomalies"):
        HSC(**FAST).fit(X)
