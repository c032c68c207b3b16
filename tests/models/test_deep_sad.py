import numpy as np
import pytest
import torch

from deepsad import DeepSAD, DeepSVDD
from tests.conftest import FAST


def test_fitted_state(blobs):
    X, y, _ = blobs
    model = DeepSAD(**FAST).fit(X, y)
    assert np.all(model.anomaly_score(X) >= 0)
    assert model.center_.shape == (model.rep_dim_,)
    assert len(model.history_["train"]["loss"]) == 3
    assert len(model.history_["pretrain"]["loss"]) == 3


def test_labeled_anomalies_are_pushed_away(blobs):
    X, y, _ = blobs
    kwargs = dict(epochs=40, ae_epochs=5, lr=1e-3, random_state=0)
    with_labels = DeepSAD(**kwargs).fit(X, y)
    without = DeepSAD(**kwargs).fit(X, np.where(y == -1, 0, y))
    known = y == -1
    ratio = lambda m: m.anomaly_score(X[known]).mean() / m.anomaly_score(X[y == 0]).mean()
    assert ratio(with_labels) > ratio(without)


def test_center_is_mean_of_non_anomalies_with_small_coordinates_pushed_out(blobs):
    X, y, _ = blobs
    model = DeepSAD(**{**FAST, "epochs": 0}).fit(X, y)
    model.encoder_.eval()
    with torch.no_grad():
        embeddings = model.encoder_(torch.from_numpy(model._transform(X[y != -1]))).double()
    expected = embeddings.mean(0)
    small = expected.abs() < 0.1
    expected[small] = torch.where(expected[small] < 0, -0.1, 0.1).double()
    torch.testing.assert_close(model.center_.double(), expected, rtol=1e-5, atol=1e-6)
    assert torch.all(model.center_.abs() >= 0.1)


def test_without_labels_equals_one_class_deep_svdd(blobs):
    X, _, _ = blobs
    sad = DeepSAD(**FAST).fit(X).anomaly_score(X)
    svdd = DeepSVDD(**FAST).fit(X).anomaly_score(X)
    np.testing.assert_allclose(sad, svdd, rtol=1e-5)


def test_images_train_with_lenet_and_score_in_batches():
    rng = np.random.default_rng(0)
    X = rng.random((40, 1, 28, 28), dtype=np.float32)
    model = DeepSAD(epochs=1, ae_epochs=1, batch_size=16, ae_batch_size=16, random_state=0).fit(X)
    assert model.network_name_ == "mnist_lenet"
    big = rng.random((2500, 1, 28, 28), dtype=np.float32)  # more than two scoring batches
    scores = model.anomaly_score(big)
    np.testing.assert_allclose(scores[:40], model.anomaly_score(big[:40]), rtol=1e-5)


def test_user_network_with_bias_warns_and_custom_decoder_needed():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    encoder = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 3))
    with pytest.warns(UserWarning, match="collapse"):
        DeepSAD(network=encoder, pretrain=False, epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="decoder"):
        DeepSAD(network=torch.nn.Linear(4, 3, bias=False), epochs=1, random_state=0).fit(X)
    decoder = torch.nn.Linear(3, 4, bias=False)
    model = DeepSAD(network=torch.nn.Linear(4, 3, bias=False), decoder=decoder, **FAST).fit(X)
    assert model.rep_dim_ == 3


def test_collapse_is_detected_and_reported():
    class Constant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(3))

        def forward(self, x):
            return self.weight.expand(x.shape[0], 3) + 0 * x[:, :1]

    X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="collapsed"):
        model = DeepSAD(network=Constant(), pretrain=False, epochs=1, random_state=0).fit(X)
    assert model.history_["collapsed"] is True


def test_the_auto_schedule_is_the_papers_on_images_and_faster_on_tables():
    from deepsad.presets import PAPER, preset_params

    rng = np.random.default_rng(0)
    table = DeepSAD(epochs=1, ae_epochs=1, random_state=0).fit(rng.normal(size=(130, 4)))
    assert table.history_["train"]["learning_rate"] == [1e-3] and table.history_["pretrain"]["learning_rate"] == [1e-3]
    assert len(table.history_["train"]["seconds"]) == 1
    images = DeepSAD(epochs=1, ae_epochs=1, random_state=0).fit(rng.random((40, 1, 28, 28), dtype=np.float32))
    assert images.history_["train"]["learning_rate"] == [1e-4]
    paper = DeepSAD(**preset_params("paper", DeepSAD), random_state=0)
    assert {k: paper.get_params()[k] for k in PAPER} == dict(PAPER)
    with pytest.raises(ValueError, match="'batch_size' parameter of DeepSAD must be"):
        DeepSAD(batch_size="big").fit(rng.normal(size=(20, 4)))
