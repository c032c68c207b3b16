"""stratified_split: the test rows are exactly the rows not used for training (the reference code let them overlap)."""

from __future__ import annotations

import numpy as np
import pytest

from deepsad.data.readers import read_mat
from deepsad.data.splits import stratified_split

# 1000 rows, 3.7 % outliers, in a shuffled order so that position carries no label.
Y = np.random.default_rng(5).permutation(np.r_[np.zeros(963), np.ones(37)]).astype(int)
X = np.random.default_rng(6).normal(size=(len(Y), 4))


@pytest.mark.parametrize("seed", range(5))
def test_test_is_exact_complement_of_train(seed):
    train, test = stratified_split(X, Y, random_state=seed)
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(len(Y)))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)


def test_sizes_and_stratification():
    train, test = stratified_split(X, Y, random_state=0)
    assert len(test) == 400 and len(train) == 600
    # 37 outliers split 22:15 (sklearn rounds per class); both ratios stay at ~3.7 %.
    assert Y[train].sum() + Y[test].sum() == 37
    assert abs(Y[train].mean() - 0.037) < 0.002 and abs(Y[test].mean() - 0.037) < 0.002


def test_test_size_argument():
    train, test = stratified_split(X, Y, test_size=0.25, random_state=0)
    assert (len(train), len(test)) == (750, 250)


def test_deterministic_by_seed():
    first, second, other = (stratified_split(X, Y, random_state=seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[1], other[1])


def test_generator_random_state_is_reproducible():
    a = stratified_split(X, Y, random_state=np.random.default_rng(9))
    b = stratified_split(X, Y, random_state=np.random.default_rng(9))
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "X_, y_, message",
    [(X, Y[:-1], "same number of rows"), (X, Y[:, None], "1-d")],
)
def test_bad_input(X_, y_, message):
    with pytest.raises(ValueError, match=message):
        stratified_split(X_, y_, random_state=0)


@pytest.mark.data
def test_real_shuttle_split(shared_data):
    X_real, y_real = read_mat(shared_data("ODDS/shuttle.mat") / "ODDS" / "shuttle.mat")
    train, test = stratified_split(X_real, y_real, random_state=0)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(y_real)
    assert abs(y_real[train].mean() - y_real[test].mean()) < 1e-3
