import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import deepsad
from deepsad.models import SSDGM
from deepsad.models.ssdgm import gaussian_kl, m2_loss

QUICK = dict(epochs=3, lr=1e-3, batch_size=32, random_state=0)


def test_verbs_have_the_right_shapes_and_signs(blobs):
    X, y, _ = blobs
    model = SSDGM(**QUICK).fit(X, y)
    scores = model.anomaly_score(X)
    assert scores.shape == (220,) and scores.dtype == np.float64
    np.testing.assert_array_equal(model.score_samples(X), -scores)
    np.testing.assert_allclose(model.decision_function(X), model.threshold_ - scores)
    assert set(np.unique(model.predict(X))) <= {-1, 1}
    # "auto": 5% of the training data (known anomalies excluded) above the threshold.
    assert np.mean(model.predict(X[y != -1]) == -1) == pytest.approx(0.05, abs=0.01)


def test_score_is_the_log_odds_of_the_anomalous_class(blobs):
    X, y, _ = blobs
    model = SSDGM(**QUICK).fit(X, y)
    with torch.no_grad():
        inputs = torch.from_numpy(model.scaler_.transform(X[:10]).astype(np.float32))
        q_anomalous = torch.softmax(model.classifier_(inputs), dim=1)[:, 1].double().numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-model.anomaly_score(X[:10]))), q_anomalous, rtol=1e-5)


@pytest.mark.parametrize("contamination", [0.1, 0.25])
def test_contamination_sets_the_training_flag_rate(blobs, contamination):
    X, y, _ = blobs
    model = SSDGM(contamination=contamination, **QUICK).fit(X, y)
    flagged = np.mean(model.predict(X[y != -1]) == -1)
    assert abs(flagged - contamination) <= 0.01


def test_separates_the_anomaly_cluster(blobs):
    X, y, truth = blobs
    model = SSDGM(**{**QUICK, "epochs": 10}).fit(X, y)
    assert roc_auc_score(truth, model.anomaly_score(X)) > 0.9


def test_same_random_state_same_scores(blobs):
    X, y, _ = blobs
    first = SSDGM(**QUICK).fit(X, y).anomaly_score(X)
    second = SSDGM(**QUICK).fit(X, y).anomaly_score(X)
    other_seed = SSDGM(**{**QUICK, "random_state": 1}).fit(X, y).anomaly_score(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other_seed)


def test_fit_leaves_the_global_random_state_alone(blobs):
    X, y, _ = blobs
    before = torch.get_rng_state()
    SSDGM(**QUICK).fit(X, y)
    assert torch.equal(torch.get_rng_state(), before)


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


def test_without_labeled_anomalies_there_is_nothing_to_learn(blobs):
    X, y, _ = blobs
    with pytest.raises(ValueError, match="needs labeled anomalies"):
        SSDGM(**QUICK).fit(X)
    with pytest.raises(ValueError, match="needs labeled anomalies"):
        SSDGM(**QUICK).fit(X, np.where(y == -1, 1, y))


def test_m2_loss_terms():
    class_logits = torch.tensor([[0.3, -0.2], [1.0, 2.0], [-0.5, 0.5]])
    negative_elbo = torch.tensor([[4.0, 6.0], [5.0, 3.0], [2.0, 7.0]])
    labels = torch.tensor([0, -1, 1], dtype=torch.int8)
    q = torch.softmax(class_logits, dim=1)
    # Unlabeled: expected −ELBO under q(y | x) minus the entropy of q(y | x).
    unlabeled = (q[0] * negative_elbo[0]).sum() + (q[0] * q[0].log()).sum()
    # Labeled: −ELBO of the given class plus the weighted cross-entropy of q(y | x).
    anomalous = negative_elbo[1, 1] - 2.5 * q[1, 1].log()
    normal = negative_elbo[2, 0] - 2.5 * q[2, 0].log()
    expected = (unlabeled + anomalous + normal) / 3
    torch.testing.assert_close(m2_loss(class_logits, negative_elbo, labels, 2.5), expected)


def test_gaussian_kl_in_closed_form():
    mean = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    log_variance = torch.tensor([[0.0, 0.0], [math.log(4.0), 0.0]])
    # KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − log σ²) per dimension.
    expected = torch.tensor([0.0, 0.5 * (1 + 4 - 1 - math.log(4.0)) + 0.5 * 4.0])
    torch.testing.assert_close(gaussian_kl(mean, log_variance), expected)


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


def test_round_trip_gives_identical_scores(tmp_path, blobs):
    X, y, _ = blobs
    model = SSDGM(alpha=3.0, **QUICK).fit(X, y)
    model.save(tmp_path / "model.safetensors")
    loaded = deepsad.load(tmp_path / "model.safetensors")
    assert type(loaded) is SSDGM
    np.testing.assert_array_equal(loaded.anomaly_score(X), model.anomaly_score(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params() == model.get_params() | {"device": "auto"}
    assert loaded.alpha_ == 3.0


# --------------------------------------------------------------- bad input
def test_bad_input_is_rejected(blobs):
    X, y, _ = blobs
    with pytest.raises(NotFittedError):
        SSDGM().predict(X)
    with pytest.raises(ValueError, match="X must have shape"):
        SSDGM(**QUICK).fit(X[:, 0], y)
    X_nan = X.copy()
    X_nan[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        SSDGM(**QUICK).fit(X_nan, y)
    with pytest.raises(ValueError, match="y must contain only"):
        SSDGM(**QUICK).fit(X, np.where(y == 1, 0.5, y))
    model = SSDGM(**QUICK).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.anomaly_score(X[:, :5])


def test_inputs_outside_the_unit_interval_are_refused(blobs):
    X, y, _ = blobs
    with pytest.raises(ValueError, match=r"needs inputs in \[0, 1\]"):
        SSDGM(scaler=None, **QUICK).fit(X, y)


@pytest.mark.parametrize(
    "parameter, value",
    [("network", "mnist_lenet"), ("decoder", torch.nn.Linear(2, 6)), ("alpha", -1.0), ("rep_dim", 0)],
)
def test_parameters_that_do_not_apply_are_named(blobs, parameter, value):
    X, y, _ = blobs
    with pytest.raises(ValueError, match=f"'{parameter}' parameter"):
        SSDGM(**{parameter: value, **QUICK}).fit(X, y)


# ------------------------------------------------- scikit-learn's own checks
class ChecksSSDGM(SSDGM):
    """Fits with its first sample labeled as an anomaly and the rest unlabeled: the checks
    pass class targets as y, which deepsad rejects by design (tested above), and SSDGM
    needs at least one labeled anomaly."""

    def fit(self, X, y=None):
        n_samples = X.shape[0] if hasattr(X, "shape") else len(np.asarray(X))
        labels = np.zeros(n_samples, dtype=int)
        if n_samples > 1:
            labels[0] = -1
        return super().fit(X, labels)


@parametrize_with_checks([ChecksSSDGM(epochs=2, batch_size=64, random_state=0)])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)
