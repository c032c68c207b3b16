"""Tests for the semi-supervised scenario builder (Deep SAD paper, §4)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from deepsad.data.scenario import Scenario, choose_known_classes, make_scenario, solve_counts
from deepsad.labels import ANOMALY, NORMAL, UNLABELED

# A pool like a small MNIST: 10 classes x 500 samples, shuffled so that indices carry no class.
LABELS = np.random.default_rng(123).permutation(np.repeat(np.arange(10), 500))
NORMAL_CLASSES = [0]
ANOMALY_CLASSES = list(range(1, 10))


def one_vs_rest(**overrides) -> Scenario:
    arguments = dict(
        labels=LABELS,
        normal_classes=NORMAL_CLASSES,
        anomaly_classes=ANOMALY_CLASSES,
        known_anomaly_classes=[1],
        ratio_known_normal=0.0,
        ratio_known_anomaly=0.05,
        ratio_pollution=0.1,
        random_state=0,
    )
    arguments.update(overrides)
    return make_scenario(**arguments)


def exact_counts(n_normal, rkn, rka, rp):
    """Closed-form solution of the paper's system, independent of numpy.linalg.solve.

    With U unlabeled samples and N in total: pollution = rp U, unlabeled normals = (1 - rp) U,
    N = U / (1 - rkn - rka), and known normals + unlabeled normals = n_normal.
    """
    unlabeled = n_normal / (rkn / (1 - rkn - rka) + 1 - rp)
    total = unlabeled / (1 - rkn - rka)
    return rkn * total, (1 - rp) * unlabeled, rp * unlabeled, rka * total


RATIO_GRID = list(
    itertools.product([0.0, 0.05, 0.1], [0.0, 0.01, 0.05, 0.1, 0.2], [0.0, 0.01, 0.05, 0.1, 0.2])
)


@pytest.mark.parametrize("rkn, rka, rp", RATIO_GRID)
def test_counts_are_the_rounded_solution_and_ratios_hold_within_one_sample(rkn, rka, rp):
    s = one_vs_rest(ratio_known_normal=rkn, ratio_known_anomaly=rka, ratio_pollution=rp)
    counts = (s.n_known_normal, s.n_unlabeled_normal, s.n_pollution, s.n_known_anomaly)
    for realised, exact in zip(counts, exact_counts(500, rkn, rka, rp)):
        assert abs(realised - exact) <= 0.5

    semi = np.asarray(s.semi_supervised_labels)
    truth = np.asarray(s.is_anomaly)
    assert (semi == NORMAL).sum() == s.n_known_normal
    assert (semi == ANOMALY).sum() == s.n_known_anomaly
    assert ((semi == UNLABELED) & (truth == 0)).sum() == s.n_unlabeled_normal
    assert ((semi == UNLABELED) & (truth == 1)).sum() == s.n_pollution
    assert s.n_known_normal + s.n_unlabeled_normal == 500  # all normal samples are used

    total = len(s.indices)
    unlabeled = s.n_unlabeled_normal + s.n_pollution
    assert total == sum(counts)
    assert abs(s.n_known_normal - rkn * total) <= 1
    assert abs(s.n_known_anomaly - rka * total) <= 1
    assert abs(s.n_pollution - rp * unlabeled) <= 1


def test_solve_counts_rounds_instead_of_truncating():
    # Exact solution for 500 normals, γl = .05, γp = .1: 29.24 known anomalies, 55.56 pollution.
    assert solve_counts(500, 0.0, 0.05, 0.1) == (0, 500, 56, 29)


def test_known_anomalies_come_only_from_known_classes_and_pollution_from_all_anomaly_classes():
    polluting_classes = set()
    for seed in range(5):
        s = one_vs_rest(known_anomaly_classes=[1, 2], ratio_pollution=0.2, random_state=seed)
        classes = LABELS[s.indices]
        semi = np.asarray(s.semi_supervised_labels)
        assert set(classes[semi == ANOMALY]) <= {1, 2}
        assert set(classes[semi == NORMAL]) | set(classes[semi == UNLABELED]) <= set(range(10))
        pollution = classes[(semi == UNLABELED) & (np.asarray(s.is_anomaly) == 1)]
        assert set(pollution) <= set(ANOMALY_CLASSES)
        polluting_classes |= set(pollution.tolist())
        np.testing.assert_array_equal(s.is_anomaly, np.isin(classes, ANOMALY_CLASSES))
    # Known classes also pollute the unlabeled data, as do all the others.
    assert polluting_classes == set(ANOMALY_CLASSES)


def test_classes_in_neither_list_are_left_out():
    s = one_vs_rest(anomaly_classes=[1, 2], known_anomaly_classes=[2])
    assert set(LABELS[s.indices].tolist()) <= {0, 1, 2}


def test_known_anomalies_and_pollution_are_disjoint_even_when_they_exhaust_a_class():
    # 29 known anomalies and 56 pollution from a single class of 85: any sample drawn twice
    # (as the reference code can) would leave a class-1 sample out and repeat another.
    labels = np.concatenate([np.zeros(500, int), np.ones(85, int)])
    for seed in range(10):
        s = make_scenario(labels, [0], [1], [1], 0.0, 0.05, 0.1, random_state=seed)
        assert (s.n_known_anomaly, s.n_pollution) == (29, 56)
        assert len(np.unique(s.indices)) == len(s.indices) == 585
        np.testing.assert_array_equal(s.indices, np.arange(585))


def test_known_and_unlabeled_normals_partition_the_normal_samples():
    s = one_vs_rest(ratio_known_normal=0.1)
    normal_pool = np.flatnonzero(LABELS == 0)
    normal_in_training = np.asarray(s.indices)[np.asarray(s.is_anomaly) == 0]
    np.testing.assert_array_equal(normal_in_training, normal_pool)
    semi, truth = np.asarray(s.semi_supervised_labels), np.asarray(s.is_anomaly)
    assert set(semi[truth == 0].tolist()) == {NORMAL, UNLABELED}
    assert not (semi[truth == 1] == NORMAL).any()


def test_output_types_are_aligned_sorted_and_read_only():
    s = one_vs_rest()
    assert s.indices.dtype == np.int64
    assert len(s.indices) == len(s.semi_supervised_labels) == len(s.is_anomaly)
    assert (np.diff(s.indices) > 0).all()
    assert set(np.unique(s.is_anomaly).tolist()) == {0, 1}
    with pytest.raises(ValueError):
        s.indices[0] = 0
    with pytest.raises(AttributeError):
        s.n_pollution = 0


def test_same_seed_same_draw_and_generators_are_accepted():
    first, second = one_vs_rest(random_state=7), one_vs_rest(random_state=7)
    from_generator = one_vs_rest(random_state=np.random.default_rng(7))
    other = one_vs_rest(random_state=8)
    for a, b in [(first, second), (first, from_generator)]:
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.semi_supervised_labels, b.semi_supervised_labels)
    assert not np.array_equal(first.indices, other.indices)


def test_global_random_state_is_neither_used_nor_changed():
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    first = one_vs_rest(random_state=3)
    one_vs_rest(random_state=None)
    choose_known_classes(ANOMALY_CLASSES, 2, random_state=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.random.seed(1)
    np.testing.assert_array_equal(one_vs_rest(random_state=3).indices, first.indices)


@pytest.mark.parametrize("rka, rp", [(0.0, 0.0), (0.0, 0.1), (0.05, 0.0)])
def test_zero_ratios_give_no_anomalies_of_that_kind(rka, rp):
    s = one_vs_rest(ratio_known_anomaly=rka, ratio_pollution=rp)
    assert (s.n_known_anomaly == 0) == (rka == 0)
    assert (s.n_pollution == 0) == (rp == 0)
    if rka == rp == 0:
        assert not np.asarray(s.is_anomaly).any()
        assert set(LABELS[s.indices].tolist()) == {0}
        assert len(s.indices) == 500


def test_no_known_anomaly_classes_is_fine_when_none_are_requested():
    s = one_vs_rest(known_anomaly_classes=[], ratio_known_anomaly=0.0)
    assert s.n_known_anomaly == 0 and s.n_pollution > 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ratio_known_normal": 1.0}, r"ratio_known_normal must be in \[0, 1\); got 1.0"),
        ({"ratio_known_normal": -0.1}, r"ratio_known_normal must be in \[0, 1\)"),
        ({"ratio_known_anomaly": 1.0}, r"ratio_known_anomaly must be in \[0, 1\)"),
        ({"ratio_pollution": 1.0}, r"ratio_pollution must be in \[0, 1\)"),
        ({"ratio_pollution": float("nan")}, r"ratio_pollution must be in \[0, 1\)"),
        (
            {"ratio_known_normal": 0.6, "ratio_known_anomaly": 0.4},
            r"ratio_known_normal \+ ratio_known_anomaly must be < 1",
        ),
        ({"normal_classes": []}, "normal_classes must name at least one class"),
        ({"normal_classes": [0, 1]}, r"normal_classes and anomaly_classes overlap in \[1\]"),
        (
            {"anomaly_classes": [2, 3], "known_anomaly_classes": [1]},
            r"known_anomaly_classes must be a subset of anomaly_classes; \[1\]",
        ),
        ({"normal_classes": [42]}, r"normal_classes \[42\] do not occur in labels"),
        ({"anomaly_classes": [1, 11]}, r"anomaly_classes \[11\] do not occur in labels"),
        ({"labels": LABELS.reshape(-1, 2)}, "labels must be a 1-D array"),
        (
            {"known_anomaly_classes": [], "ratio_known_anomaly": 0.05},
            r"requests 29 known anomalies, but known_anomaly_classes \[\] have only 0 samples",
        ),
    ],
)
def test_bad_arguments_raise_errors_naming_them(overrides, message):
    with pytest.raises(ValueError, match=message):
        one_vs_rest(**overrides)


def test_too_many_known_anomalies_says_how_many_were_requested_and_available():
    labels = np.concatenate([np.zeros(500, int), np.ones(10, int), np.full(500, 2)])
    # 500 normals with γl = .2 and nothing else call for 125 known anomalies.
    message = r"requests 125 known anomalies.*only 10 samples available"
    with pytest.raises(ValueError, match=message):
        make_scenario(labels, [0], [1, 2], [1], 0.0, 0.2, 0.0, random_state=0)


def test_too_much_pollution_counts_the_known_anomalies_already_drawn():
    labels = np.concatenate([np.zeros(500, int), np.ones(60, int)])
    with pytest.raises(
        ValueError,
        match=r"requests 56 pollution samples, but anomaly_classes have only 31 samples "
        r"available after drawing 29 known anomalies",
    ):
        make_scenario(labels, [0], [1], [1], 0.0, 0.05, 0.1, random_state=0)


def test_choose_known_classes_draws_distinct_classes_reproducibly():
    drawn = {choose_known_classes(ANOMALY_CLASSES, 3, random_state=seed) for seed in range(50)}
    assert len(drawn) > 10  # really random across seeds
    for classes in drawn:
        assert len(set(classes)) == 3 and set(classes) <= set(ANOMALY_CLASSES)
        assert list(classes) == sorted(classes)  # order of anomaly_classes is kept
    assert set().union(*drawn) == set(ANOMALY_CLASSES)
    assert choose_known_classes(ANOMALY_CLASSES, 5, 4) == choose_known_classes(
        ANOMALY_CLASSES, 5, np.random.default_rng(4)
    )
    assert choose_known_classes(ANOMALY_CLASSES, 0, 0) == ()
    assert sorted(choose_known_classes(ANOMALY_CLASSES, 9, 0)) == ANOMALY_CLASSES


@pytest.mark.parametrize(
    "anomaly_classes, n_known, error, message",
    [
        (ANOMALY_CLASSES, 10, ValueError, r"n_known must be between 0 and the 9 anomaly_classes"),
        (ANOMALY_CLASSES, -1, ValueError, r"n_known must be between 0 and the 9"),
        (ANOMALY_CLASSES, 1.5, TypeError, r"n_known must be an integer"),
        ([1, 1, 2], 1, ValueError, r"anomaly_classes must not repeat a class"),
    ],
)
def test_choose_known_classes_rejects_bad_arguments(anomaly_classes, n_known, error, message):
    with pytest.raises(error, match=message):
        choose_known_classes(anomaly_classes, n_known, random_state=0)
