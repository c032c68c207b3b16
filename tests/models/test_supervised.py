import warnings

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from deepsad.models import SupervisedClassifier
from tests.conftest import FAST


def test_separates_the_anomaly_cluster(blobs):
    X, y, truth = blobs
    model = SupervisedClassifier(pretrain=False, epochs=10, lr=1e-3, batch_size=32, random_state=0).fit(X, y)
    scores = model.anomaly_score(X)
    assert roc_auc_score(truth, scores) > 0.9
    # The labeled anomalies end up on the anomalous side of the classifier's boundary.
    assert np.all(model.predict(X[y == -1]) == -1)


def test_known_normals_are_treated_like_unlabeled_samples(blobs):
    X, y, _ = blobs
    as_labeled = SupervisedClassifier(**FAST).fit(X, y).anomaly_score(X)
    as_unlabeled = SupervisedClassifier(**FAST).fit(X, np.where(y == 1, 0, y)).anomaly_score(X)
    np.testing.assert_array_equal(as_labeled, as_unlabeled)


def test_labeled_anomalies_change_the_model(blobs):
    X, y, _ = blobs
    five = SupervisedClassifier(**FAST).fit(X, y).anomaly_score(X)
    more = y.copy()
    more[205:210] = -1
    ten = SupervisedClassifier(**FAST).fit(X, more).anomaly_score(X)
    assert not np.array_equal(five, ten)


def test_auto_threshold_is_the_classifiers_boundary(blobs):
    X, y, _ = blobs
    # "auto": the classifier's own boundary p(anomaly | x) = 0.5, i.e. logit 0.
    assert SupervisedClassifier(**FAST).fit(X, y).threshold_ == 0.0


def test_custom_network_without_collapse_warning(blobs):
    X, y, _ = blobs
    network = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SupervisedClassifier(network=network, pretrain=False, **FAST).fit(X, y)
    assert model.rep_dim_ == 4 and model.output_layer_.in_features == 4
