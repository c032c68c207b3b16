"""The shared parameter constraints (``deepsad.parameters``) as the estimators apply them."""

import numpy as np
import pytest

from deepsad import SSDGM, Autoencoder, DeepSAD
from deepsad.parameters import HIDDEN_SIZES, MILESTONES


@pytest.mark.parametrize(
    "constraint, good, bad",
    [
        (HIDDEN_SIZES, [[8], (32, 16), np.array([4, 2])],
         [[], ["a"], [0], [4, -1], [2.0], [True], "8", 8, np.ones((2, 2), int)]),
        (MILESTONES, [[], (0,), [50, 100], np.array([3])], [["x"], [-1], [1.5], "5", 5, None]),
    ],
)
def test_integer_sequences_take_lists_tuples_and_arrays_of_ints_in_range(constraint, good, bad):
    assert all(constraint.is_satisfied_by(value) for value in good)
    assert not any(constraint.is_satisfied_by(value) for value in bad)


@pytest.mark.parametrize(
    "estimator, parameter, message",
    [
        (DeepSAD(hidden_sizes=["a"]), "hidden_sizes", "a non-empty sequence of positive ints. Got \\[.a.\\]"),
        (DeepSAD(hidden_sizes=[]), "hidden_sizes", "a non-empty sequence of positive ints"),
        (DeepSAD(lr_milestones=["x"]), "lr_milestones", "a sequence of non-negative ints"),
        (DeepSAD(ae_lr_milestones=[-1]), "ae_lr_milestones", "a sequence of non-negative ints"),
        (Autoencoder(hidden_sizes=[16, 0]), "hidden_sizes", "a non-empty sequence of positive ints"),
        (SSDGM(hidden_sizes=["a"]), "hidden_sizes", "a non-empty sequence of positive ints"),
    ],
)
def test_fit_refuses_network_sizes_and_milestones_that_are_not_ints(estimator, parameter, message):
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=f"The '{parameter}' parameter of {type(estimator).__name__} must be .*{message}"):
        estimator.fit(X)


def test_zero_epochs_train_nothing_and_the_detector_still_scores():
    X = np.random.default_rng(0).normal(size=(60, 4))
    model = DeepSAD(epochs=0, ae_epochs=0, batch_size=32, random_state=0).fit(X)
    assert model.history_["train"]["loss"] == [] and model.history_["pretrain"]["loss"] == []
    scores = model.score_samples(X)
    assert scores.shape == (60,) and np.isfinite(scores).all()
