import numpy as np
from sklearn.metrics import roc_auc_score

from deepsad import Autoencoder
from tests.conftest import AUTOENCODER_FAST


def test_reconstruction_error_flags_off_manifold_points():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(300, 1))
    normal = np.hstack([t, 2 * t, -t, 0.5 * t]) + 0.01 * rng.normal(size=(300, 4))
    odd = rng.normal(size=(20, 4))
    X = np.vstack([normal, odd]).astype(np.float32)
    truth = np.r_[np.zeros(300), np.ones(20)]
    model = Autoencoder(ae_epochs=60, ae_lr=1e-2, random_state=0).fit(X)
    assert roc_auc_score(truth, model.anomaly_score(X)) > 0.9



def test_its_only_stage_is_autoencoder_training(blobs):
    X, _, _ = blobs
    model = Autoencoder(**AUTOENCODER_FAST).fit(X)
    assert list(model.history_) == ["train"] and len(model.history_["train"]["loss"]) == 3
    assert not {"pretrain", "epochs", "lr", "batch_size", "weight_decay"} & set(model.get_params())
    assert model.encode(X).shape == (220, model.rep_dim_)
