import numpy as np
import pytest

from deepsad.decisions import benjamini_hochberg, conformal_p_values


def test_p_values_count_the_calibration_scores_at_least_as_high():
    calibration = np.array([1.0, 2.0, 3.0, 4.0])
    p = conformal_p_values(calibration, [0.0, 1.0, 2.5, 4.0, 9.0])
    assert p.tolist() == pytest.approx([5 / 5, 5 / 5, 3 / 5, 2 / 5, 1 / 5])


def test_p_values_of_exchangeable_normals_are_uniform_on_the_grid():
    rng = np.random.default_rng(0)
    hits = [conformal_p_values(np.sort(rng.normal(size=19)), rng.normal(size=1))[0] <= 0.1 for _ in range(20000)]
    # P(p ≤ 0.1) = 2/20 exactly for n = 19
    assert np.mean(hits) == pytest.approx(0.1, abs=3 * np.sqrt(0.1 * 0.9 / 20000))


def test_benjamini_hochberg_takes_the_largest_rank_below_the_line():
    p = np.array([0.01, 0.04, 0.03, 0.5, 0.2])
    # sorted 0.01, 0.03, 0.04, 0.2, 0.5 against 0.02, 0.04, 0.06, 0.08, 0.1 at q = 0.1: k = 3
    assert benjamini_hochberg(p, 0.1).tolist() == [True, True, True, False, False]
    assert not benjamini_hochberg(p, 0.001).any()
    assert benjamini_hochberg(np.array([]), 0.1).shape == (0,)


def test_unsorted_calibration_scores_are_sorted_and_nan_refused():
    assert conformal_p_values(np.array([3.0, 1.0, 2.0]), [2.5]).tolist() == [0.5]
    with pytest.raises(ValueError, match="NaN"):
        conformal_p_values(np.array([1.0, 2.0]), [np.nan])


def test_split_conformal_rates_keep_alpha_and_count_recall():
    from deepsad.decisions.conformal import split_conformal_rates

    rng = np.random.default_rng(0)
    alphas = [0.01, 0.05, 0.2]
    normal_only = rng.normal(size=4000)
    far, recall = split_conformal_rates(normal_only, np.zeros(4000), alphas, splits=10)
    np.testing.assert_allclose(far, alphas, atol=0.01)  # exchangeable: the rate is α (up to 1/(n + 1))
    assert np.isnan(recall).all()  # no anomalies to recall
    # anomalies everywhere but few normals (an image test set: nine classes of ten anomalous)
    scores = np.r_[rng.normal(size=400), rng.normal(3, 1, size=3600)]
    truth = np.r_[np.zeros(400), np.ones(3600)]
    far, recall = split_conformal_rates(scores, truth, alphas, splits=20)
    np.testing.assert_allclose(far, alphas, atol=0.015)  # calibrated on the normals only
    # recall at α is P(N(3, 1) above the (1 − α) normal quantile)
    from scipy.stats import norm

    np.testing.assert_allclose(recall, norm.sf(norm.isf(alphas) - 3), atol=0.05)
    assert np.isnan(split_conformal_rates([1.0, 2.0], [1, 1], alphas)[0]).all()  # no normal to calibrate on


def test_the_submodules_are_attributes_of_the_lazy_package():
    import deepsad.decisions as decisions

    assert decisions.selection.AnomalyStratifiedKFold is decisions.AnomalyStratifiedKFold
    assert callable(decisions.saving.load)
