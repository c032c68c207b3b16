import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV

from deepsad.baselines import IsolationForest
from deepsad.decisions import CalibratedDetector
from deepsad.decisions.selection import (
    AnomalyStratifiedKFold,
    choice_uncertainty,
    pu_auroc,
    pu_auroc_scorer,
    pu_balanced_accuracy,
    pu_balanced_accuracy_scorer,
)
from deepsad.labels import ANOMALY, NORMAL, UNLABELED


def labels(n_unlabeled=90, n_anomalies=7, n_normal=3):
    return np.r_[np.full(n_unlabeled, UNLABELED), np.full(n_anomalies, ANOMALY), np.full(n_normal, NORMAL)]


def test_every_fold_validates_and_trains_on_labeled_anomalies():
    y = labels()
    splitter = AnomalyStratifiedKFold(3, random_state=0)
    seen = []
    for train, validation in splitter.split(np.zeros((len(y), 1)), y):
        assert (y[validation] == ANOMALY).sum() >= 2 and (y[train] == ANOMALY).sum() >= 4
        assert abs(len(validation) - len(y) / 3) <= 1
        assert not set(train) & set(validation)
        seen.extend(validation)
    assert sorted(seen) == list(range(len(y)))
    assert splitter.get_n_splits() == 3


def test_too_few_anomalies_for_the_folds_is_named():
    with pytest.raises(ValueError, match="3 folds need at least 3 labeled anomalies .* y has 2"):
        list(AnomalyStratifiedKFold(3).split(np.zeros((50, 1)), labels(45, 2, 3)))
    with pytest.raises(ValueError, match="needs the semi-supervised labels y"):
        list(AnomalyStratifiedKFold(3).split(np.zeros((50, 1))))
    with pytest.raises(ValueError, match="n_splits must be an integer ≥ 2"):
        AnomalyStratifiedKFold(1)


def test_pu_auroc_is_the_auroc_of_labeled_anomalies_against_the_rest():
    y = np.array([ANOMALY, ANOMALY, UNLABELED, UNLABELED, NORMAL])
    assert pu_auroc(y, [5, 4, 1, 4.5, 0]) == pytest.approx(5 / 6)
    with pytest.raises(ValueError, match="it has 0 labeled anomalies of 3 samples"):
        pu_auroc(np.zeros(3), [1, 2, 3])


@pytest.mark.filterwarnings("ignore:IsolationForest is unsupervised:UserWarning")
def test_grid_search_chooses_from_training_labels_alone():
    rng = np.random.default_rng(0)
    y = labels(300, 12, 0)
    X = np.vstack([rng.normal(size=(300, 4)), rng.normal(4, 1, size=(12, 4))])
    search = GridSearchCV(IsolationForest(random_state=0), {"max_samples": [16, 256]}, scoring=pu_auroc_scorer,
                          cv=AnomalyStratifiedKFold(3, random_state=0)).fit(X, y)
    assert search.best_score_ > 0.9
    table = choice_uncertainty(search.cv_results_)
    assert list(table.columns) == ["params", "mean", "std", "difference_to_best", "standard_error",
                                   "indistinguishable_from_best"]
    assert table["indistinguishable_from_best"].iloc[0] and table["difference_to_best"].iloc[0] == 0


def test_choice_uncertainty_separates_clear_from_unclear_choices():
    results = {"params": [{"a": 1}, {"a": 2}, {"a": 3}],
               "split0_test_score": [0.90, 0.70, 0.89], "split1_test_score": [0.92, 0.71, 0.93],
               "split2_test_score": [0.91, 0.69, 0.90]}
    table = choice_uncertainty(results).set_index("params")
    assert table.loc["{'a': 1}", "indistinguishable_from_best"]
    assert table.loc["{'a': 3}", "indistinguishable_from_best"]  # 0.007 behind, with a 0.01 standard error
    assert not table.loc["{'a': 2}", "indistinguishable_from_best"]


def test_a_failed_candidate_is_never_the_best():
    results = {"params": [{"a": 1}, {"a": 2}], "split0_test_score": [np.nan, 0.8], "split1_test_score": [np.nan, 0.82]}
    table = choice_uncertainty(results)
    assert table["params"].tolist() == ["{'a': 2}", "{'a': 1}"]
    assert table["indistinguishable_from_best"].tolist() == [True, False]
    assert AnomalyStratifiedKFold(np.int64(2)).get_n_splits() == 2


def test_one_metric_of_a_multi_metric_search_is_assessed_by_name():
    results = {"params": [{"a": 1}, {"a": 2}],
               "split0_test_pu": [0.9, 0.7], "split1_test_pu": [0.92, 0.71],
               "split0_test_ap": [0.5, 0.6], "split1_test_ap": [0.52, 0.61]}
    assert choice_uncertainty(results, metric="pu")["params"].tolist() == ["{'a': 1}", "{'a': 2}"]
    assert choice_uncertainty(results, metric="ap")["params"].tolist() == ["{'a': 2}", "{'a': 1}"]
    with pytest.raises(ValueError, match=r"no split<i>_test_score columns; its metrics are \['ap', 'pu'\]"):
        choice_uncertainty(results)


def test_labels_outside_the_convention_are_refused_by_the_folds():
    y = np.r_[np.zeros(20), -np.ones(4)]
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"y must contain only .* found \[nan\]"):
        list(AnomalyStratifiedKFold(2, random_state=0).split(np.zeros((24, 2)), y))


def test_pu_balanced_accuracy_is_a_linear_function_of_the_true_balanced_accuracy():
    # 20 labeled anomalies, 15 flagged; among the 100 others, 4 hidden anomalies (3 flagged, the
    # same recall of 3/4) and 96 normal samples (12 flagged)
    y = np.r_[np.full(20, ANOMALY), np.full(100, UNLABELED)]
    truth = np.r_[np.ones(24), np.zeros(96)].astype(bool)
    flagged = np.r_[np.arange(20) < 15, np.arange(4) < 3, np.arange(96) < 12]
    predictions = np.where(flagged, -1, 1)
    pi = 4 / 100
    true_balanced_accuracy = balanced_accuracy_score(truth, flagged)  # (18/24 + 84/96) / 2
    assert pu_balanced_accuracy(y, predictions) == pytest.approx((1 - pi) * true_balanced_accuracy + pi / 2)
    assert pu_balanced_accuracy(y, predictions) == pytest.approx((15 / 20 + 1 - 15 / 100) / 2)
    assert pu_balanced_accuracy(y, np.full(120, -1)) == pu_balanced_accuracy(y, np.ones(120)) == 0.5


@pytest.mark.parametrize("y, predictions, message", [
    (np.zeros(4), [1, 1, -1, 1], "pu_balanced_accuracy needs labeled anomalies .* it has 0 labeled anomalies of 4"),
    ([-1, 0, 0], [1, -1], r"one decision per label, shape \(3,\); got shape \(2,\)"),
    ([-1, 0, 0], [0, 1, 1], r"-1 \(anomaly\) or \+1 \(normal\); found \[0, 1\]"),
    ([-1, 0, 0], [True, True, True], r"predict's decisions, -1 \(anomaly\) or \+1"),
])
def test_pu_balanced_accuracy_names_bad_input(y, predictions, message):
    with pytest.raises(ValueError, match=message):
        pu_balanced_accuracy(y, predictions)


@pytest.mark.filterwarnings("ignore:IsolationForest is unsupervised:UserWarning")
def test_grid_search_chooses_the_threshold_strategy_from_training_labels_alone():
    rng = np.random.default_rng(0)
    # 600 normal and 30 hidden anomalies unlabeled, 30 anomalies labeled
    X = np.vstack([rng.normal(size=(600, 4)), rng.normal(2, 1, size=(60, 4))])
    y = np.r_[np.full(630, UNLABELED), np.full(30, ANOMALY)]
    strategies = ["percentile:10", "fpr:0.1", "percentile:99.9"]  # too low, sensible, too high
    search = GridSearchCV(CalibratedDetector(IsolationForest(random_state=0), random_state=0),
                          {"threshold": strategies}, cv=AnomalyStratifiedKFold(3, random_state=0),
                          scoring={"decisions": pu_balanced_accuracy_scorer, "auroc": pu_auroc_scorer},
                          refit="decisions").fit(X, y)
    assert search.best_params_ == {"threshold": "fpr:0.1"}
    # the AUROC cannot tell the strategies apart: one detector, three cuts of its scores
    assert np.ptp(search.cv_results_["mean_test_auroc"]) == 0
    assert np.ptp(search.cv_results_["mean_test_decisions"]) > 0.1
    # and it ranks the strategies as their true balanced accuracy on fresh labeled data does
    X_new = np.vstack([rng.normal(size=(2000, 4)), rng.normal(2, 1, size=(200, 4))])
    truth = np.r_[np.zeros(2000), np.ones(200)].astype(bool)
    true_balanced_accuracy = [
        balanced_accuracy_score(truth, CalibratedDetector(IsolationForest(random_state=0), threshold=text,
                                                          random_state=0).fit(X, y).predict(X_new) == -1)
        for text in strategies]
    np.testing.assert_array_equal(np.argsort(search.cv_results_["mean_test_decisions"]),
                                  np.argsort(true_balanced_accuracy))
