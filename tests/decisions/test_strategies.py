import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from deepsad.decisions import (
    BestF1,
    Contamination,
    FalseAlarmRate,
    MeanStd,
    Percentile,
    PrecisionAtRecall,
    Recall,
    SoftBoundary,
    conformal_quantile,
    parse_strategy,
)

NORMAL = np.arange(1.0, 101.0)  # 1..100


def test_quantile_strategies_cut_the_normal_scores():
    assert Contamination(0.05).choose(NORMAL).value == pytest.approx(np.percentile(NORMAL, 95))
    assert Percentile(99).choose(NORMAL).value == pytest.approx(np.percentile(NORMAL, 99))
    assert MeanStd(2).choose(NORMAL).value == pytest.approx(NORMAL.mean() + 2 * NORMAL.std(ddof=1))


def test_false_alarm_rate_is_the_conformal_rank():
    # n = 100, α = 0.1: the ⌈101 × 0.9⌉ = 91st smallest score
    threshold = FalseAlarmRate(0.1).choose(NORMAL)
    assert threshold.value == 91.0
    estimate, low, high = threshold.estimates["false_alarm_rate"]
    assert estimate == pytest.approx(0.09) and low < 0.09 < high
    with pytest.raises(ValueError, match=r"a calibration set of 100 normal samples supports .* α ≥ 1/\(n \+ 1\) = 0.0099"):
        FalseAlarmRate(0.005).choose(NORMAL)
    assert conformal_quantile(NORMAL, 1 / 101) == 100.0


def test_recall_is_the_highest_threshold_that_flags_enough_anomalies():
    anomalies = np.array([10.0, 50.0, 95.0, 120.0, 130.0])
    threshold = Recall(0.6).choose(NORMAL, anomalies)  # 3 of 5: the cut is just below 95
    assert 94.0 < threshold.value < 95.0
    assert (anomalies > threshold.value).sum() == 3
    assert threshold.estimates["recall"][0] == pytest.approx(0.6)
    assert threshold.estimates["false_alarm_rate"][0] == pytest.approx(0.06)
    assert threshold.estimates["precision"][0] == pytest.approx(3 / 9)
    assert (anomalies > Recall(1.0).choose(NORMAL, anomalies).value).all()


def test_best_f1_separates_separable_scores():
    anomalies = np.array([150.0, 160.0])
    value = BestF1().choose(NORMAL, anomalies).value
    assert 100.0 <= value < 150.0
    # overlapping: flag the top 3 (two anomalies at 99.5 and 200, one normal at 100) or only 200
    value = BestF1().choose(NORMAL, np.array([99.5, 200.0])).value
    flagged = np.r_[NORMAL, 99.5, 200.0] > value
    assert flagged.sum() in (1, 3)


def test_precision_at_recall_is_the_most_precise_cut_with_enough_recall():
    # against every cut between distinct scores, on small integer scores full of ties
    for seed in range(40):
        rng = np.random.default_rng(seed)
        normal, anomalies = rng.integers(0, 30, 60).astype(float), rng.integers(10, 40, 12).astype(float)
        target = rng.choice([0.1, 0.5, 0.75, 0.9, 1.0])
        candidates = np.unique(np.r_[normal, anomalies]) - 0.5
        recalls = np.array([(anomalies > t).mean() for t in candidates])
        hits = np.array([(anomalies > t).sum() for t in candidates])
        precisions = hits / np.array([(np.r_[normal, anomalies] > t).sum() for t in candidates])
        feasible = recalls >= target - 1e-12
        best_precision = precisions[feasible].max()
        most_recall = recalls[feasible & (precisions == best_precision)].max()
        threshold = PrecisionAtRecall(target).choose(normal, anomalies)
        assert threshold.estimates["precision"][0] == pytest.approx(best_precision)
        assert threshold.estimates["recall"][0] == pytest.approx(most_recall)
        assert threshold.estimates["recall"][0] >= target - 1e-12


def test_precision_at_recall_prefers_fewer_false_alarms_to_the_highest_threshold():
    anomalies = np.array([50.0, 99.5, 150.0, 160.0, 170.0])
    # recall:0.6 cuts just below 150 (3 of 5, no false alarm); flagging 4 of 5 costs one false
    # alarm (at 100), so with a target of 0.8 the best precision is 4/5
    threshold = PrecisionAtRecall(0.6).choose(NORMAL, anomalies)
    assert 100.0 <= threshold.value < 150.0 and threshold.estimates["precision"][0] == 1.0
    threshold = PrecisionAtRecall(0.8).choose(NORMAL, anomalies)
    assert 99.0 <= threshold.value < 99.5
    low, high = threshold.estimates["precision"][1:]
    assert threshold.estimates["precision"][0] == pytest.approx(0.8) and low < 0.8 < high
    assert threshold.estimates["recall"][0] == pytest.approx(0.8)


def test_recall_holds_its_target_on_fresh_anomalies_over_many_seeds():
    target, n_anomalies, seeds = 0.8, 20, 50
    realised = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        value = Recall(target).choose(rng.normal(0, 1, 200), rng.normal(2, 1, n_anomalies)).value
        realised.append(norm.sf(value, loc=2))  # the recall on fresh N(2, 1) anomalies, exactly
    # The cut lies just below the k-th highest of n labeled anomalies, k = ⌈r·n⌉ = 16: the
    # fraction of fresh anomalies above it is Beta(k, n + 1 − k) distributed, with mean k/(n + 1)
    # = 0.762 — an empirical quantile falls short of r by at most r/(n + 1) on average, one
    # labeled anomaly's worth — and standard deviation 0.091, 0.013 for a mean over 50 seeds.
    # Three standard errors make a chance failure of a correct rule a 0.3% event.
    k = math.ceil(target * n_anomalies)
    expected = k / (n_anomalies + 1)
    standard_error = math.sqrt(k * (n_anomalies + 1 - k) / ((n_anomalies + 1) ** 2 * (n_anomalies + 2)) / seeds)
    assert np.mean(realised) >= target * n_anomalies / (n_anomalies + 1) - 3 * standard_error
    # and exactly the order statistic: one anomaly fewer (k = 15) would average 0.714
    assert abs(np.mean(realised) - expected) <= 3 * standard_error


def test_best_f1_finds_the_best_f1_threshold_of_the_truth_over_many_seeds():
    n_normal, n_anomalies, shift, seeds = 1000, 100, 3.0, 50

    def true_f1(threshold):  # the F1 of a threshold on the populations, at the samples' mix
        hits, false_alarms = n_anomalies * norm.sf(threshold - shift), n_normal * norm.sf(threshold)
        return 2 * hits / (hits + false_alarms + n_anomalies)

    grid = np.linspace(-2.0, 7.0, 90_001)
    best = grid[np.argmax(true_f1(grid))]  # 2.145
    chosen = np.array([BestF1().choose(np.random.default_rng(seed).normal(0, 1, n_normal),
                                       np.random.default_rng(seed + 1000).normal(shift, 1, n_anomalies)).value
                       for seed in range(seeds)])
    # The sample's best cut scatters around the truth's (sd about 0.16 here) with a bias of
    # order 1/n: within three standard errors of the mean over the seeds.
    assert abs(chosen.mean() - best) <= 3 * chosen.std(ddof=1) / math.sqrt(seeds)
    # F1 is flat at its maximum, so that scatter costs little: about 0.006 on average here.
    assert np.mean(true_f1(best) - true_f1(chosen)) <= 0.02


@pytest.mark.parametrize("strategy", [Recall(0.5), BestF1(), PrecisionAtRecall(0.9)])
def test_strategies_of_labeled_anomalies_refuse_to_go_without(strategy):
    with pytest.raises(ValueError, match="needs labeled anomalies .* there are none"):
        strategy.choose(NORMAL)


@pytest.mark.parametrize(
    "text, expected",
    [("fpr:0.01", FalseAlarmRate(0.01)), ("contamination:0.1", Contamination(0.1)), ("percentile:99", Percentile(99)),
     ("mean+std:3", MeanStd(3)), ("recall:0.9", Recall(0.9)), ("f1", BestF1()),
     ("precision@recall:0.9", PrecisionAtRecall(0.9)), ("soft-boundary", SoftBoundary())],
)
def test_text_forms(text, expected):
    assert parse_strategy(text) == expected and parse_strategy(text).text == text


def test_the_text_keeps_every_digit_so_a_saved_strategy_refits_the_same_rule():
    for text in ("fpr:0.0512345678", "contamination:0.123456789", "recall:0.3333333333333333", "mean+std:2.5e-07"):
        strategy = parse_strategy(text)
        assert strategy.text == text and parse_strategy(strategy.text) == strategy


def test_numpy_floats_keep_their_own_shortest_form():
    assert FalseAlarmRate(np.float32(0.1)).text == "fpr:0.1" and Contamination(np.float64(0.05)).text == "contamination:0.05"


def test_a_tiny_recall_target_still_flags_the_highest_anomaly():
    anomalies = np.array([10.0, 50.0, 120.0])
    value = Recall(1e-12).choose(NORMAL, anomalies).value
    assert (anomalies > value).tolist() == [False, False, True]


@pytest.mark.parametrize(
    "text, message",
    [("fpr:0", r"false-alarm rate α must be a number in \(0, 1\); got 0.0"),
     ("fpr:1.5", r"must be a number in \(0, 1\)"),
     ("fpr:abc", "'abc' is not a number"),
     ("fpr", "unknown threshold strategy 'fpr'"),
     ("quantile:0.9", "unknown threshold strategy"),
     ("recall:0", r"recall target must be a number in \(0, 1\]"),
     ("precision@recall:1.5", r"recall target must be a number in \(0, 1\]; got 1.5"),
     ("precision@recall", "unknown threshold strategy 'precision@recall'; use one of .* precision@recall:R"),
     ("soft-boundary:0.1", "unknown threshold strategy 'soft-boundary:0.1'"),
     ("percentile:100", r"percentile must be a number in \(0, 100\)"),
     ("mean+std:nan", "k of mean\\+std must be a finite number"),
     (0.05, "threshold must be a strategy such as 'fpr:0.01'")],
)
def test_bad_strategies_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_strategy(text)


def test_scores_with_nan_or_none_are_refused():
    with pytest.raises(ValueError, match="scores hold NaN"):
        FalseAlarmRate(0.1).choose(np.r_[NORMAL, np.nan])
    with pytest.raises(ValueError, match="no normal or unlabeled scores"):
        FalseAlarmRate(0.1).choose([])


def test_infinite_scores_and_too_small_sets_are_refused_and_numpy_numbers_accepted():
    with pytest.raises(ValueError, match="NaN or infinite"):
        Contamination(0.1).choose([0.0, 1.0, np.inf])
    with pytest.raises(ValueError, match="mean\\+std:3 needs at least 2 unlabeled or normal"):
        MeanStd(3).check_sizes(1, 0)
    with pytest.raises(ValueError, match="needs at least 1 unlabeled or normal"):
        Percentile(90).check_sizes(0, 5)
    assert Contamination(np.float32(0.25)).fraction == pytest.approx(0.25)
    assert Percentile(np.int64(90)).choose(NORMAL).value == pytest.approx(np.percentile(NORMAL, 90))


def test_soft_boundary_is_the_detectors_sphere_and_the_scores_only_estimate_its_rates():
    # what soft-boundary reads of a fitted soft-boundary Deep SVDD: its objective parameter and
    # its fitted model's boundary on the score
    fitted_sphere = SimpleNamespace(objective="soft-boundary", model_=SimpleNamespace(natural_threshold=0.0))
    threshold = SoftBoundary().choose(NORMAL - 90.5, [5.0, -1.0], detector=fitted_sphere)
    assert threshold.value == 0.0 and threshold.strategy == "soft-boundary"
    assert threshold.estimates["false_alarm_rate"][0] == pytest.approx(0.1)  # 91..100 lie outside
    assert threshold.estimates["recall"][0] == pytest.approx(0.5)


def test_soft_boundary_refuses_detectors_without_a_sphere():
    from deepsad import DeepSAD, DeepSVDD

    with pytest.raises(ValueError, match="pass the fitted soft-boundary DeepSVDD as detector="):
        SoftBoundary().choose(NORMAL)
    with pytest.raises(ValueError, match=r"DeepSAD learns no such radius\. Fit a soft-boundary Deep SVDD"):
        SoftBoundary().choose(NORMAL, detector=DeepSAD())
    with pytest.raises(ValueError, match=r"DeepSVDD\(objective='one-class'\) learns no such radius"):
        SoftBoundary().check_detector(DeepSVDD())
    with pytest.raises(ValueError, match="this DeepSVDD is not fitted: call fit first"):
        SoftBoundary().choose(NORMAL, detector=DeepSVDD(objective="soft-boundary"))
    SoftBoundary().check_detector(DeepSVDD(objective="soft-boundary"))
    for strategy in (FalseAlarmRate(0.1), BestF1()):
        strategy.check_detector(DeepSAD())  # the strategies of the scores take any detector
