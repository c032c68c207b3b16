import numpy as np
import pytest

from deepsad.experiments.runner import run_experiment
from deepsad.experiments.shared_autoencoders import SharedAutoencoders
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore
from deepsad.experiments.sweep import RunSettings, run_sweep
from deepsad.models import Autoencoder, PretrainingCache

QUICK_AE = {"autoencoder__ae_epochs": 3, "autoencoder__ae_batch_size": 64}


def shared_in(folder) -> SharedAutoencoders:
    return SharedAutoencoders(PretrainingCache(folder))


def small_autoencoder(**params):
    return Autoencoder(ae_epochs=2, ae_batch_size=32, device="cpu", random_state=0, **params)


def test_the_second_request_loads_the_autoencoder_the_first_trained(tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 6)).astype(np.float32)
    shared = shared_in(tmp_path / "ae")
    first = shared.fitted(small_autoencoder(), X)
    second = shared.fitted(small_autoencoder(), X)
    assert (shared.trained, shared.reused) == (1, 1)
    assert len(list((tmp_path / "ae").iterdir())) == 1
    assert np.array_equal(first.encode(X), second.encode(X))
    # The same as training it afresh: sharing changes the time, not the model.
    assert np.array_equal(small_autoencoder().fit(X).encode(X), second.encode(X))


def test_other_data_parameters_or_seed_train_another_autoencoder(tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 6)).astype(np.float32)
    shared = shared_in(tmp_path / "ae")
    shared.fitted(small_autoencoder(), X)
    changed = X.copy()
    changed[0, 0] += 1e-3
    shared.fitted(small_autoencoder(), changed)
    shared.fitted(small_autoencoder(rep_dim=4), X)
    shared.fitted(Autoencoder(ae_epochs=2, ae_batch_size=32, device="cpu", random_state=1), X)
    assert (shared.trained, shared.reused) == (4, 0)
    assert len(list((tmp_path / "ae").iterdir())) == 4


def test_an_autoencoder_without_a_fixed_seed_is_never_shared(tmp_path):
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    unseeded = Autoencoder(ae_epochs=1, device="cpu", random_state=None)
    shared = shared_in(tmp_path / "ae")
    shared.fitted(unseeded, X)
    shared.fitted(unseeded, X)
    assert (shared.trained, shared.reused) == (2, 0) and not (tmp_path / "ae").exists()


def test_a_damaged_file_is_trained_again_and_replaced(tmp_path):
    X = np.random.default_rng(0).normal(size=(80, 5)).astype(np.float32)
    shared = shared_in(tmp_path / "ae")
    expected = shared.fitted(small_autoencoder(), X).encode(X)
    (path,) = (tmp_path / "ae").iterdir()
    path.write_bytes(path.read_bytes()[:-20])
    again = shared_in(tmp_path / "ae")
    assert np.array_equal(again.fitted(small_autoencoder(), X).encode(X), expected)
    assert (again.trained, again.reused) == (1, 0)
    assert np.array_equal(shared_in(tmp_path / "ae").fitted(small_autoencoder(), X).encode(X), expected)


@pytest.mark.parametrize("selection", [None, "paper", "honest"])
def test_hybrids_with_a_shared_autoencoder_give_the_same_result(tmp_path, selection):
    method = "hybrid-iforest" if selection is None else "hybrid-ssad"
    experiment = Experiment("digits", method, seed=0, normal_class=0, ratio_known_anomaly=0.05, params=QUICK_AE,
                            selection=selection)
    alone, alone_outcome = run_experiment(experiment, device="cpu")
    shared = shared_in(tmp_path / "ae")
    first, _ = run_experiment(experiment, device="cpu", autoencoders=shared)
    second, second_outcome = run_experiment(experiment, device="cpu", autoencoders=shared)
    assert (first.autoencoder, second.autoencoder.split()[0]) == ("trained", "reused")
    assert alone.autoencoder is None and "autoencoder" not in alone.to_dict()
    assert second.metrics == alone.metrics
    assert np.array_equal(second_outcome.scores, alone_outcome.scores)


def test_a_sweep_trains_each_autoencoder_once(tmp_path):
    experiments = [
        Experiment("digits", method, seed=0, normal_class=0, ratio_known_anomaly=0.05, params=QUICK_AE)
        for method in ("hybrid-iforest", "hybrid-kde", "hybrid-ocsvm")
    ]
    store = ResultsStore(tmp_path / "results.sqlite")
    settings = RunSettings(device="cpu", stored_trainings=str(tmp_path / "results.pretrained"))
    summary = run_sweep(experiments, store, workers=1, settings=settings, show_progress=False)
    assert summary.succeeded == 3
    assert [r["autoencoder"].split()[0] for r in store.records()] == ["trained", "reused", "reused"]
    assert len(list((tmp_path / "results.pretrained").iterdir())) == 1


def test_a_sweep_that_shares_no_autoencoders_trains_each_hybrid_its_own(tmp_path):
    experiments = [
        Experiment("digits", method, seed=0, normal_class=0, ratio_known_anomaly=0.05, params=QUICK_AE)
        for method in ("hybrid-iforest", "hybrid-kde")
    ]
    store = ResultsStore(tmp_path / "results.sqlite")
    settings = RunSettings(device="cpu", stored_trainings=str(tmp_path / "results.pretrained"), share_autoencoders=False)
    summary = run_sweep(experiments, store, workers=1, settings=settings, show_progress=False)
    assert summary.succeeded == 2
    assert [r.get("autoencoder") for r in store.records()] == [None, None]
    assert not (tmp_path / "results.pretrained").exists()


def test_a_hybrid_loads_the_pretraining_deep_sad_stored_for_the_same_samples(tmp_path):
    from deepsad.experiments.runner import run_experiments
    from deepsad.models import PretrainingCache

    schedule = {"ae_epochs": 3, "ae_lr": 1e-3, "ae_lr_milestones": [], "ae_batch_size": 64, "ae_weight_decay": 5e-4}
    deep_sad = Experiment("digits", "deepsad", seed=0, normal_class=0, ratio_known_anomaly=0.05,
                          params={**schedule, "epochs": 1, "pretrain_on": "unlabeled"})
    hybrid = Experiment("digits", "hybrid-ssad", seed=0, normal_class=0, ratio_known_anomaly=0.05,
                        params={f"autoencoder__{name}": value for name, value in schedule.items()})
    cache = PretrainingCache(tmp_path / "pretrained")
    [done] = run_experiments([deep_sad], device="cpu", pretrained=cache)
    assert not isinstance(done, Exception) and cache.trained == 1
    shared = SharedAutoencoders(cache)
    record, outcome = run_experiment(hybrid, device="cpu", autoencoders=shared)
    assert (cache.trained, cache.reused) == (1, 1)
    assert (shared.trained, shared.reused) == (0, 1) and record.autoencoder.startswith("reused")
    # Loading Deep SAD's pretraining gives the hybrid it would have trained alone.
    alone, alone_outcome = run_experiment(hybrid, device="cpu")
    assert record.metrics == alone.metrics
    assert np.array_equal(outcome.scores, alone_outcome.scores)


@pytest.mark.parametrize("seed", [np.random.RandomState(0), np.random.default_rng(0)])
def test_an_autoencoder_seeded_by_a_generator_is_shared(tmp_path, seed):
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    shared = shared_in(tmp_path / "ae")
    first = shared.fitted(Autoencoder(ae_epochs=1, device="cpu", random_state=seed), X)
    second = shared.fitted(Autoencoder(ae_epochs=1, device="cpu", random_state=seed), X)
    assert (shared.trained, shared.reused) == (1, 1)
    assert np.array_equal(first.encode(X), second.encode(X))


def test_without_shared_pretraining_only_the_hybrids_use_the_folder(tmp_path):
    deep_sad = Experiment("digits", "deepsad", seed=0, normal_class=0, ratio_known_anomaly=0.05,
                          params={"ae_epochs": 2, "epochs": 1, "pretrain_on": "unlabeled"})
    hybrids = [Experiment("digits", method, seed=0, normal_class=0, ratio_known_anomaly=0.05, params=QUICK_AE)
               for method in ("hybrid-iforest", "hybrid-kde")]
    store = ResultsStore(tmp_path / "results.sqlite")
    settings = RunSettings(device="cpu", stored_trainings=str(tmp_path / "results.pretrained"), share_pretraining=False)
    summary = run_sweep([deep_sad, *hybrids], store, workers=1, settings=settings, show_progress=False)
    assert summary.succeeded == 3
    assert sorted(str(r.get("autoencoder")).split()[0] for r in store.records()) == ["None", "reused", "trained"]
    assert len(list((tmp_path / "results.pretrained").iterdir())) == 1  # the hybrids' autoencoder only
