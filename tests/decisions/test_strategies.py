import numpy as np
import pytest

from deepsad.decisions import (
    BestF1,
    Contamination,
    FalseAlarmRate,
    MeanStd,
    Percentile,
    Recall,
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


@pytest.mark.parametrize("strategy", [Recall(0.5), BestF1()])
def test_strategies_of_labeled_anomalies_refuse_to_go_without(strategy):
    with pytest.raises(ValueError, match="needs labeled anomalies .* there are none"):
        strategy.choose(NORMAL)


@pytest.mark.parametrize(
    "text, expected",
    [("fpr:0.01", FalseAlarmRate(0.01)), ("contamination:0.1", Contamination(0.1)), ("percentile:99", Percentile(99)),
     ("mean+std:3", MeanStd(3)), ("recall:0.9", Recall(0.9)), ("f1", BestF1())],
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
