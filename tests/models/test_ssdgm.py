
import numpy as np
import pytest
import torch

import deepsad
from deepsad.models import SSDGM

QUICK = dict(epochs=3, lr=1e-3, batch_size=32, random_state=0)


def test_auto_contamination_leaves_five_percent_above_the_threshold(blobs):
    X, y, _ = blobs
    model = SSDGM(**QUICK).fit(X, y)
    # "auto": 5% of the training data (known anomalies excluded) above the threshold.
    assert np.mean(model.predict(X[y != -1]) == -1) == pytest.approx(0.05, abs=0.01)


def test_score_is_the_log_odds_of_the_anomalous_class(blobs):
    X, y, _ = blobs
    model = SSDGM(**QUICK).fit(X, y)
    with torch.no_grad():
        inputs = torch.from_numpy(model.scaler_.transform(X[:10]).astype(np.float32))
        q_anomalous = torch.softmax(model.classifier_(inputs), dim=1)[:, 1].double().numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-model.anomaly_score(X[:10]))), q_anomalous, rtol=1e-5)


# ------------------------------------------------------------------ labels
def test_known_normals_are_a_labeled_class(blobs):
    X, y, _ = blobs
    with_normals = SSDGM(**QUICK).fit(X, y).anomaly_score(X)
    as_unlabeled = SSDGM(**QUICK).fit(X, np.where(y == 1, 0, y)).anomaly_score(X)
    assert not np.array_equal(with_normals, as_unlabeled)


def test_alpha_auto_is_a_tenth_of_the_training_set_size(blobs):
    X, y, _ = blobs
    assert SSDGM(**{**QUICK, "epochs": 0}).fit(X, y).alpha_ == pytest.approx(22.0)
    assert SSDGM(alpha=5.0, **{**QUICK, "epochs": 0}).fit(X, y).alpha_ == 5.0


# ---------------------------------------------------- architecture and files
def test_hidden_sizes_and_latent_dimension(blobs):
    X, y, _ = blobs
    model = SSDGM(hidden_sizes=(12,), rep_dim=3, **{**QUICK, "epochs": 0}).fit(X, y)
    assert model.rep_dim_ == 3
    assert model.network_options_ == {"rep_dim": 3, "hidden_sizes": [12]}
    assert model.encoder_.layers[-1].out_features == 2 * 3
    assert model.decoder_.layers[0].in_features == 3 + 2


def test_images_are_flattened_to_vectors():
    images = np.random.default_rng(0).random((40, 1, 3, 3)).astype(np.float32)
    y = np.r_[-np.ones(3), np.zeros(37)]
    settings = dict(scaler=None, **QUICK)
    from_images = SSDGM(**settings).fit(images, y).anomaly_score(images)
    from_vectors = SSDGM(**settings).fit(images.reshape(40, -1), y).anomaly_score(images.reshape(40, -1))
    np.testing.assert_allclose(from_images, from_vectors, rtol=1e-6)


def test_alpha_is_kept_in_the_model_file(tmp_path, blobs):
    X, y, _ = blobs
    SSDGM(alpha=3.0, **QUICK).fit(X, y).save(tmp_path / "model.safetensors")
    assert deepsad.load(tmp_path / "model.safetensors").alpha_ == 3.0


def test_it_has_no_network_choice_and_no_pretraining():
    params = SSDGM().get_params()
    assert not {"network", "decoder", "pretrain", "ae_epochs"} & set(params)
    with pytest.raises(TypeError, match="network"):
        SSDGM(network="mnist_lenet")


# --------------------------------------------------------------- bad input
def test_inputs_outside_the_unit_interval_are_refused(blobs):
    X, y, _ = blobs
    with pytest.raises(ValueError, match=r"needs inputs in \[0, 1\]"):
        SSDGM(scaler=None, **QUICK).fit(X, y)
