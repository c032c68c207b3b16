"""fit_many: the estimators end as if each had been fitted alone."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from deepsad import HSC, SSDGM, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier, fit_many
from deepsad.baselines import IsolationForest

pytestmark = [pytest.mark.filterwarnings("ignore:.*collapse:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*ignores labels:UserWarning")]

FAST = dict(epochs=3, ae_epochs=3, lr=1e-4, ae_lr=1e-4, batch_size=32, ae_batch_size=32, lr_milestones=(2,),
            ae_lr_milestones=(2,))  # one schedule for all (Deep SAD's "auto" differs on tables)


def _data(seed, n=150):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n - 10, 5)), rng.normal(4, 1, size=(10, 5))]).astype(np.float32)
    y = np.zeros(n, dtype=int)
    y[-10:-5] = -1
    truth = np.r_[np.zeros(n - 10), np.ones(10)]
    return X, y, truth


MAKERS = {
    "DeepSAD": lambda seed: DeepSAD(random_state=seed, **FAST),
    "DeepSVDD": lambda seed: DeepSVDD(random_state=seed, **FAST),
    "HSC": lambda seed: HSC(random_state=seed, **FAST),
    "Autoencoder": lambda seed: Autoencoder(random_state=seed, ae_epochs=3, ae_batch_size=32),
    "SupervisedClassifier": lambda seed: SupervisedClassifier(random_state=seed, **FAST),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_models_fitted_together_equal_models_fitted_alone(name):
    make, data = MAKERS[name], [_data(seed) for seed in range(3)]
    alone = [make(seed).fit(X, y) for seed, (X, y, _) in enumerate(data)]
    together = fit_many([make(seed) for seed in range(3)], [d[0] for d in data], [d[1] for d in data])
    for one, other, (X, _, truth) in zip(alone, together, data):
        assert other.history_["train" if "train" in other.history_ else "pretrain"]["models_trained_together"] == 3
        np.testing.assert_allclose(other.anomaly_score(X), one.anomaly_score(X), rtol=1e-3, atol=1e-5)
        assert roc_auc_score(truth, other.anomaly_score(X)) == pytest.approx(roc_auc_score(truth, one.anomaly_score(X)),
                                                                           abs=1e-3)
        assert other.threshold_ == pytest.approx(one.threshold_, rel=1e-3, abs=1e-6)
    assert not np.allclose(together[0].anomaly_score(data[0][0]), together[1].anomaly_score(data[0][0]))


def test_without_stacking_the_fits_are_exactly_those_of_fit():
    data = [_data(seed) for seed in range(2)]
    alone = [DeepSAD(random_state=s, **FAST).fit(X, y) for s, (X, y, _) in enumerate(data)]
    together = fit_many([DeepSAD(random_state=s, **FAST) for s in range(2)], [d[0] for d in data],
                        [d[1] for d in data], stack=False)
    for one, other, (X, _, _) in zip(alone, together, data):
        np.testing.assert_array_equal(other.anomaly_score(X), one.anomaly_score(X))
        assert "models_trained_together" not in other.history_["train"]


def test_a_mixed_set_trains_what_matches_together_and_the_rest_alone():
    (X, y, _), (X_small, y_small, _) = _data(0), _data(1, n=120)
    estimators = [
        DeepSAD(random_state=0, **FAST),
        DeepSVDD(random_state=0, objective="soft-boundary", nu=0.1, **FAST),  # its radius is solved between epochs
        DeepSAD(random_state=1, **FAST),
        DeepSAD(random_state=2, **FAST),  # fewer samples
        DeepSAD(random_state=3, eta=2.0, **FAST),  # another η: its loss differs
        SSDGM(random_state=0, epochs=2, batch_size=32),  # samples noise: never stacked
        IsolationForest(random_state=0),  # not deep: fitted on its own
    ]
    Xs = [X, X, X, X_small, X, X, X]
    ys = [y, None, y, y_small, y, y, y]
    fitted = fit_many(estimators, Xs, ys)
    together = [e.history_["train"].get("models_trained_together") for e in fitted[:5]]
    assert together == [2, None, 2, None, None]
    # The pretraining stages match wherever the data size does: DeepSVDD leaves out no
    # known anomaly here (no labels), so its autoencoder trains with the others of 150 samples.
    assert [e.history_["pretrain"].get("models_trained_together") for e in fitted[:5]] == [4, 4, 4, None, 4]
    for estimator, X_i in zip(fitted, Xs):
        assert np.all(np.isfinite(estimator.anomaly_score(X_i)))
    expected = DeepSAD(random_state=2, **FAST).fit(X_small, y_small).anomaly_score(X_small)
    np.testing.assert_array_equal(fitted[3].anomaly_score(X_small), expected)


def test_a_stacked_lenet_matches_when_asked_for():
    rng = np.random.default_rng(0)
    images = [rng.random((40, 1, 28, 28), dtype=np.float32) for _ in range(2)]
    settings = dict(epochs=1, ae_epochs=1, batch_size=16, ae_batch_size=16)
    alone = [DeepSAD(random_state=s, **settings).fit(x) for s, x in enumerate(images)]
    auto = fit_many([DeepSAD(random_state=s, **settings) for s in range(2)], images)
    assert "models_trained_together" not in auto[0].history_["train"]  # convolutions on the CPU: alone
    forced = fit_many([DeepSAD(random_state=s, **settings) for s in range(2)], images, stack=True)
    assert forced[0].history_["train"]["models_trained_together"] == 2
    for one, other, x in zip(alone, forced, images):
        np.testing.assert_allclose(other.anomaly_score(x), one.anomaly_score(x), rtol=1e-3, atol=1e-6)


def test_fitted_together_models_save_and_load(tmp_path):
    data = [_data(seed) for seed in range(2)]
    models = fit_many([DeepSAD(random_state=s, **FAST) for s in range(2)], [d[0] for d in data],
                      [d[1] for d in data])
    models[1].save(tmp_path / "m.safetensors")
    from deepsad import load

    np.testing.assert_array_equal(load(tmp_path / "m.safetensors").anomaly_score(data[1][0]),
                                  models[1].anomaly_score(data[1][0]))


@pytest.mark.parametrize("args, kwargs, message", [
    (([DeepSAD()], [np.zeros((4, 2))] * 2), {}, "1 estimators, 2 data sets and 1 label sets"),
    (([DeepSAD()], [np.zeros((4, 2))]), {"stack": "yes"}, "stack must be one of"),
    (([DeepSAD()], np.zeros((1, 2))), {}, r"pass \[X\] \* len\(estimators\)"),
])
def test_mismatched_arguments_are_named(args, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fit_many(*args, **kwargs)


def _with_labeled_anomalies(n_labeled, seed=0):
    """The same unlabeled samples, with ``n_labeled`` labeled anomalies appended."""
    rng = np.random.default_rng(seed)
    unlabeled = rng.normal(size=(140, 5)).astype(np.float32)
    anomalies = rng.normal(4, 1, size=(n_labeled, 5)).astype(np.float32)
    return np.vstack([unlabeled, anomalies]), np.r_[np.zeros(140, dtype=int), -np.ones(n_labeled, dtype=int)]


def test_a_pretraining_on_the_unlabeled_samples_is_trained_once_and_loaded_by_the_fits_that_repeat_it(tmp_path):
    from deepsad import PretrainingCache

    cache = PretrainingCache(tmp_path / "pretrained")
    make = lambda: DeepSAD(random_state=0, pretrain_on="unlabeled", **FAST)  # noqa: E731
    (X_few, y_few), (X_many, y_many) = _with_labeled_anomalies(3), _with_labeled_anomalies(12)
    first = fit_many([make()], [X_few], [y_few], pretrained=cache)[0]
    assert (cache.trained, cache.reused) == (1, 0) and "loaded" not in first.history_["pretrain"]
    second = fit_many([make()], [X_many], [y_many], pretrained=cache)[0]
    assert (cache.trained, cache.reused) == (1, 1) and second.history_["pretrain"]["loaded"]
    assert second.history_["pretrain"]["loss"] == first.history_["pretrain"]["loss"]
    # Loading gives exactly the fit that trains its own pretraining.
    alone = make().fit(X_many, y_many)
    np.testing.assert_array_equal(second.anomaly_score(X_many), alone.anomaly_score(X_many))
    # The paper's choice (pretrain on all samples) sees the labeled anomalies: nothing to share.
    all_samples = DeepSAD(random_state=0, **FAST)
    fit_many([all_samples], [X_many], [y_many], pretrained=cache)
    assert cache.reused == 1 and cache.trained == 2


def test_an_autoencoder_loads_the_pretraining_of_a_method_that_trained_on_its_samples(tmp_path):
    from deepsad import Autoencoder, PretrainingCache

    cache = PretrainingCache(tmp_path)
    X, y = _with_labeled_anomalies(3)
    fit_many([DeepSAD(random_state=0, pretrain_on="unlabeled", **FAST)], [X], [y], pretrained=cache)
    ae_params = {name: value for name, value in FAST.items() if name.startswith("ae_")}
    unlabeled = X[y == 0]  # what the Autoencoder trains on: it leaves the labeled anomalies out
    loaded = fit_many([Autoencoder(random_state=0, **ae_params)], [unlabeled], pretrained=cache)[0]
    assert (cache.trained, cache.reused) == (1, 1) and loaded.history_["train"]["loaded"]
    alone = Autoencoder(random_state=0, **ae_params).fit(unlabeled)
    np.testing.assert_array_equal(loaded.anomaly_score(X), alone.anomaly_score(X))
    assert loaded.threshold_ == alone.threshold_
    # Another seed is another training: trained and stored, not loaded.
    fit_many([Autoencoder(random_state=1, **ae_params)], [unlabeled], pretrained=cache)
    assert (cache.trained, cache.reused) == (2, 1)


def test_a_damaged_pretraining_entry_is_trained_again(tmp_path):
    from deepsad import PretrainingCache

    cache = PretrainingCache(tmp_path)
    X, y = _with_labeled_anomalies(3)
    fit_many([DeepSAD(random_state=0, pretrain_on="unlabeled", **FAST)], [X], [y], pretrained=cache)
    [entry] = list(tmp_path.iterdir())
    entry.write_bytes(entry.read_bytes()[:-10] + b"0123456789")
    again = fit_many([DeepSAD(random_state=0, pretrain_on="unlabeled", **FAST)], [X], [y], pretrained=cache)[0]
    assert cache.reused == 0 and cache.trained == 2 and "loaded" not in again.history_["pretrain"]


def test_pretraining_on_the_unlabeled_samples_needs_some():
    X, _ = _with_labeled_anomalies(3)
    with pytest.raises(ValueError, match="pretrain_on='unlabeled' needs unlabeled samples"):
        DeepSAD(pretrain_on="unlabeled", **FAST).fit(X, np.r_[np.ones(140), -np.ones(3)])


def test_fits_of_one_call_that_pretrain_alike_pretrain_once(tmp_path):
    from deepsad import PretrainingCache

    cache = PretrainingCache(tmp_path)
    data = [_with_labeled_anomalies(n) for n in (3, 6, 12)]
    fitted = fit_many([DeepSAD(random_state=0, pretrain_on="unlabeled", **FAST) for _ in data],
                      [X for X, _ in data], [y for _, y in data], pretrained=cache)
    assert (cache.trained, cache.reused) == (1, 2)
    assert ["loaded" in m.history_["pretrain"] for m in fitted] == [False, True, True]
    for model, (X, y) in zip(fitted, data):
        alone = DeepSAD(random_state=0, pretrain_on="unlabeled", **FAST).fit(X, y)
        np.testing.assert_array_equal(model.anomaly_score(X), alone.anomaly_score(X))


def test_a_failed_call_leaves_no_estimator_half_refitted():
    from sklearn.exceptions import NotFittedError

    X, y, _ = _data(0)
    refitted = DeepSAD(random_state=0, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="labels every sample as a known anomaly"):
        fit_many([refitted, DeepSAD(**FAST)], [X, X], [y, -np.ones(len(X))])
    with pytest.raises(NotFittedError):
        refitted.anomaly_score(X)


class _ScaledMLP(torch.nn.Module):
    """A user's encoder with a plain setting (``scale``) and, optionally, dropout."""

    def __init__(self, scale, dropout=0.0):
        super().__init__()
        self.scale = scale
        self.layer = torch.nn.Linear(5, 4, bias=False)
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.layer(x)) * self.scale


def test_user_networks_stack_only_with_equal_settings_and_fall_back_when_they_cannot():
    data = [_data(seed) for seed in range(2)]
    Xs, ys = [d[0] for d in data], [d[1] for d in data]
    def make(seed, **kw):  # a user's module is initialised when the user builds it: seeded here
        torch.manual_seed(seed)
        return DeepSAD(network=_ScaledMLP(**kw), pretrain=False, random_state=seed, **FAST)

    mixed = fit_many([make(0, scale=1.0), make(1, scale=100.0)], Xs, ys, stack=True)
    assert all("models_trained_together" not in m.history_["train"] for m in mixed)
    for model, seed, scale, X, y in zip(mixed, (0, 1), (1.0, 100.0), Xs, ys):
        np.testing.assert_array_equal(model.anomaly_score(X), make(seed, scale=scale).fit(X, y).anomaly_score(X))
    # Dropout draws random numbers, which stacked training refuses: trained one by one instead.
    with pytest.warns(UserWarning, match="trained one by one instead"):
        random = fit_many([make(0, scale=1.0, dropout=0.5), make(1, scale=1.0, dropout=0.5)], Xs, ys, stack=True)
    assert all(np.all(np.isfinite(m.anomaly_score(X))) for m, X in zip(random, Xs))


def test_user_networks_are_not_cached_and_a_cache_that_cannot_be_written_only_warns(tmp_path):
    from deepsad import PretrainingCache

    X, y = _with_labeled_anomalies(3)
    decoder = torch.nn.Sequential(torch.nn.Linear(4, 5, bias=False))
    cache = PretrainingCache(tmp_path / "cache")
    fit_many([DeepSAD(network=_ScaledMLP(1.0), decoder=decoder, pretrain_on="unlabeled", **FAST)], [X], [y],
             pretrained=cache)
    assert cache.trained == 0 and not (tmp_path / "cache").exists()
    (tmp_path / "a_file").write_text("")
    blocked = PretrainingCache(tmp_path / "a_file" / "cache")
    with pytest.warns(UserWarning, match="could not be stored"):
        fitted = fit_many([DeepSAD(random_state=0, pretrain_on="unlabeled", **FAST)], [X], [y], pretrained=blocked)
    assert np.all(np.isfinite(fitted[0].anomaly_score(X)))
