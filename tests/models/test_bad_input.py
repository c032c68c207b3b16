import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from deepsad import HSC, Autoencoder, DeepSAD, DeepSVDD
from tests.conftest import FAST

ESTIMATORS = [DeepSAD, DeepSVDD, HSC, Autoencoder]
X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_wrong_dimensionality(cls):
    with pytest.raises(ValueError, match="X"):
        cls(**FAST).fit(np.zeros(10))
    with pytest.raises(ValueError, match=r"X must have shape"):
        cls(**FAST).fit(np.zeros((10, 2, 3)))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf(cls, bad):
    data = X.copy()
    data[3, 1] = bad
    with pytest.raises(ValueError, match="X"):
        cls(**FAST).fit(data)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_labels_outside_the_three_values(cls):
    with pytest.raises(ValueError, match=r"y must contain only"):
        cls(**FAST).fit(X, np.r_[np.zeros(49), 2])
    with pytest.raises(ValueError, match=r"y has 3 labels"):
        cls(**FAST).fit(X, [0, 1, -1])


@pytest.mark.parametrize("cls", [DeepSAD, HSC])
def test_no_normal_or_unlabeled_data(cls):
    with pytest.raises(ValueError, match="at least one unlabeled"):
        cls(**FAST).fit(X, -np.ones(50))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_too_few_samples_for_batchnorm(cls):
    with pytest.raises(ValueError, match="at least 2"):
        cls(**FAST).fit(X[:1])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_feature_count_differs_at_predict(cls):
    model = cls(**FAST).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="X"):
        model.anomaly_score(np.zeros((3, 1, 2, 2)))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_predict_before_fit(cls):
    with pytest.raises(NotFittedError):
        cls().predict(X)


def test_network_with_wrong_output_shape():
    class Flat(torch.nn.Module):
        def forward(self, x):
            return x.sum()

    with pytest.raises(ValueError, match=r"network must map"):
        DeepSAD(network=Flat(), pretrain=False, **{k: v for k, v in FAST.items()}).fit(X)
    with pytest.raises(ValueError, match=r"network failed"):
        DeepSAD(network=torch.nn.Linear(7, 2, bias=False), pretrain=False, epochs=1).fit(X)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="eta"):
        DeepSAD(eta=-1).fit(X)
    with pytest.raises(ValueError, match="network"):
        DeepSAD(network="resnet").fit(X)
    with pytest.raises(ValueError, match="hidden_sizes"):
        DeepSAD(network="mnist_lenet", hidden_sizes=(3,)).fit(np.zeros((4, 1, 28, 28)))
    with pytest.raises(ValueError, match="device"):
        DeepSAD(device="tpu", **FAST).fit(X)
    with pytest.raises(ValueError, match="contamination"):
        DeepSAD(contamination=0.9).fit(X)


def test_diverging_training_is_reported():
    from deepsad.training import TrainingDiverged

    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        DeepSAD(network=torch.nn.Linear(4, 3, bias=False), pretrain=False, lr=1e30, epochs=3,
                weight_decay=1e30, random_state=0).fit(X * 1e30)
