import numpy as np
import pytest

from deepsad.experiments.packing import pack, stacks_well
from deepsad.experiments.spec import Experiment


def odds(method="deepsad", seed=0, **kwargs):
    return Experiment("cardio", method, seed=seed, ratio_known_anomaly=0.05, **kwargs)


def mnist(seed=0, ratio_known_anomaly=0.05, **kwargs):
    return Experiment("mnist", "deepsad", seed=seed, normal_class=0, ratio_known_anomaly=ratio_known_anomaly, **kwargs)


def test_what_stacks_well():
    assert stacks_well(odds(), on_gpu=False)
    assert stacks_well(Experiment("digits", "deepsvdd", normal_class=0), on_gpu=False)  # 8×8 images: an MLP
    assert not stacks_well(mnist(), on_gpu=False)  # a LeNet: stacked convolutions are slow on the CPU
    assert stacks_well(mnist(), on_gpu=True)
    assert stacks_well(mnist(params={"network": "mlp"}), on_gpu=False)
    assert not stacks_well(odds("iforest"), on_gpu=True)  # not deep
    assert not stacks_well(odds("ocsvm", selection="honest"), on_gpu=True)


def test_experiments_that_differ_only_in_the_seed_share_a_pack():
    experiments = [odds(seed=s) for s in range(12)] + [odds("deepsvdd", seed=s) for s in range(3)] + [mnist(seed=0)]
    packs = pack(experiments, pack_size=5, workers=1, on_gpu=False)
    # Round-robin over the groups: the first pack of each, then the second, ...
    assert [len(p) for p in packs] == [5, 3, 1, 5, 2]
    assert [e.seed for e in packs[0]] == [0, 1, 2, 3, 4]
    assert [e.seed for e in packs[3]] == [5, 6, 7, 8, 9]
    assert sorted(e.key for p in packs for e in p) == sorted(e.key for e in experiments)
    assert {e.method for e in packs[1]} == {"deepsvdd"}


def test_packs_are_split_so_that_every_worker_has_work():
    packs = pack([odds(seed=s) for s in range(10)], pack_size=10, workers=2, on_gpu=False)
    assert [len(p) for p in packs] == [5, 5]
    packs = pack([odds(seed=s) for s in range(3)], pack_size=10, workers=8, on_gpu=False)
    assert [len(p) for p in packs] == [1, 1, 1]


def test_pack_size_one_runs_each_alone():
    assert [len(p) for p in pack([odds(seed=s) for s in range(4)], pack_size=1, workers=1, on_gpu=True)] == [1] * 4
    with pytest.raises(ValueError, match="pack_size must be a positive integer"):
        pack([], pack_size=0, workers=1, on_gpu=False)


def test_unstacked_runs_that_pretrain_alike_share_a_pack_seed_by_seed():
    params = {"pretrain_on": "unlabeled"}
    experiments = [mnist(seed=s, ratio_known_anomaly=ratio, params={**params, "eta": eta})
                   for ratio in (0.01, 0.05) for eta in (1.0, 10.0) for s in range(3)]
    packs = pack(experiments, pack_size=4, workers=1, on_gpu=False)
    assert [[e.seed for e in p] for p in packs] == [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]]
    # A group of more than one pack: its second pack waits until every group has begun, so
    # that two workers do not pretrain the same autoencoder at once.
    packs = pack(experiments, pack_size=2, workers=1, on_gpu=False)
    assert [p[0].seed for p in packs] == [0, 1, 2, 0, 1, 2]
    # Where the models stack (tables), packs go by seed as before: stacking gains more.
    tables = [odds(seed=s, params=params) for s in range(3)]
    assert [len(p) for p in pack(tables, pack_size=4, workers=1, on_gpu=False)] == [3]


def test_methods_that_pretrain_alike_share_a_pack_but_not_other_pretraining_settings():
    params = {"pretrain_on": "unlabeled"}
    supervised = [Experiment("mnist", "supervised", normal_class=0, ratio_known_anomaly=r,
                             params={**params, "anomaly_weight": 2.0}) for r in (0.05, 0.2)]
    other_schedule = mnist(params={**params, "ae_epochs": 5})
    other_class = Experiment("mnist", "deepsad", normal_class=1, ratio_known_anomaly=0.05, params=params)
    experiments = [mnist(ratio_known_anomaly=0.0, params=params), *supervised, other_schedule, other_class]
    packs = pack(experiments, pack_size=10, workers=1, on_gpu=False)
    assert [[e.method for e in p] for p in packs] == [["deepsad", "supervised", "supervised"], ["deepsad"], ["deepsad"]]
    assert packs[1] == [other_schedule] and packs[2] == [other_class]


def test_with_pollution_only_runs_with_the_same_labels_pretrain_alike():
    from deepsad.data.scenario import make_scenario

    # The premise, on the scenario builder: at γp > 0 other known classes mean other pollution.
    labels = np.random.default_rng(1).permutation(np.repeat(np.arange(10), 50))  # classes interleaved, as in MNIST
    unlabeled = [make_scenario(labels, [0], range(1, 10), known, 0.0, 0.05, 0.1, random_state=0)
                 for known in ([1], [2], [1])]
    polluted = [set(s.indices[s.semi_supervised_labels == 0]) for s in unlabeled]
    assert polluted[0] != polluted[1] and polluted[0] == polluted[2]

    params = {"pretrain_on": "unlabeled"}
    by_labels = [mnist(ratio_pollution=0.1, n_known_classes=kl, params=params) for kl in (1, 2, 3)]
    by_eta = [mnist(ratio_pollution=0.1, params={**params, "eta": eta}) for eta in (0.1, 1.0, 10.0)]
    packs = pack(by_labels + by_eta, pack_size=10, workers=1, on_gpu=False)
    # kl = 1 has the labels of the η runs (η = 1 by default): those four pretrain alike
    assert [len(p) for p in packs] == [4, 1, 1]
    assert packs[0] == [by_labels[0], *by_eta] and packs[1:] == [[by_labels[1]], [by_labels[2]]]
    # without pollution, the unlabeled samples are the normal class's, whatever the labels
    clean = [mnist(n_known_classes=kl, params=params) for kl in (1, 2, 3)]
    assert [len(p) for p in pack(clean, pack_size=10, workers=1, on_gpu=False)] == [3]
