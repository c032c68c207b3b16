"""Choosing a detector's hyperparameters from the training data alone, with scikit-learn's
``GridSearchCV``.

A semi-supervised training set has a few labeled anomalies (-1) among many unlabeled samples
(0) and perhaps some labeled normals (+1). Cross-validation folds are drawn so that every
validation fold holds labeled anomalies and every training fold keeps at least one
(``AnomalyStratifiedKFold``), and a validation fold is scored by how well the model ranks its
labeled anomalies above its other samples (``pu_auroc``): the AUROC of the positive-unlabeled
setting. If the labeled anomalies are a random draw of all anomalies, it is a linear function
of the true AUROC with a positive slope (it equals (1 − π)·AUROC + π/2 for an anomaly fraction
π among the unlabeled), so it orders candidates as the true AUROC would; it is biased towards
the known anomaly classes where the labels are not such a draw. No test label is used.

The AUROC ignores the threshold. To choose what the threshold depends on — the threshold
strategy of a ``CalibratedDetector``, a ``contamination`` — score the decisions of ``predict``
instead: ``pu_balanced_accuracy_scorer``, the mean of the recall on the fold's labeled
anomalies and the fraction of its other samples left unflagged. By the same argument it equals
(1 − π)·BA + π/2, BA the true balanced accuracy of the decisions, so it orders thresholds as BA
would.

Example
-------
>>> from sklearn.model_selection import GridSearchCV
>>> from deepsad.baselines import IsolationForest
>>> from deepsad.decisions.selection import AnomalyStratifiedKFold, pu_auroc_scorer
>>> search = GridSearchCV(IsolationForest(), {"n_estimators": [50, 100]}, scoring=pu_auroc_scorer,
...                       cv=AnomalyStratifiedKFold(3, random_state=0))  # then search.fit(X, y)
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import BaseCrossValidator

from deepsad.labels import ANOMALY, LabelConventionWarning
from deepsad.validation import check_labels


def pu_auroc(y, scores) -> float:
    """AUROC of the labeled anomalies (y = -1) against every other sample (unlabeled or known
    normal), from anomaly scores (higher = more anomalous)."""
    is_anomaly = _labeled_anomalies(y, "pu_auroc")
    return float(roc_auc_score(is_anomaly, np.asarray(scores)))


def pu_auroc_scorer(estimator, X, y) -> float:
    """A scikit-learn scorer (``scoring=pu_auroc_scorer``): ``pu_auroc`` of the estimator's
    ``anomaly_score`` on a validation fold."""
    return pu_auroc(y, estimator.anomaly_score(X))


def pu_balanced_accuracy(y, predictions) -> float:
    """The balanced accuracy of decisions, measured with positive-unlabeled labels.

    The mean of the recall on the labeled anomalies and the fraction of the other samples left
    unflagged: with TPR the fraction of the labeled anomalies flagged (``predictions`` -1) and
    F the fraction of the other samples (unlabeled and known normal) flagged,
    (TPR + 1 − F) / 2. If the labeled anomalies are flagged as often as the anomalies hidden
    among the other samples (a random draw of the anomalies), F = π·TPR + (1 − π)·FPR, π the
    anomaly fraction among the other samples and FPR the false-alarm rate on normal samples,
    so it equals (1 − π)·BA + π/2, BA = (TPR + 1 − FPR) / 2 the true balanced accuracy: a
    linear function with positive slope, which orders decisions as BA orders them. BA weighs a
    missed anomaly against a false alarm by the rates of their classes, not by their counts:
    it does not depend on how rare anomalies are, and prefers lower thresholds than F1 does
    where they are rare. Known normals among the other samples only lower π.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Semi-supervised labels: -1 labeled anomaly, 0 unlabeled, +1 known normal. Both the
        labeled anomalies and the other samples must be present.
    predictions : array-like of shape (n_samples,)
        Decisions as ``predict`` returns them: -1 anomaly, +1 normal.

    Returns
    -------
    float
        The positive-unlabeled balanced accuracy, in [0, 1]: 0.5 for decisions that ignore
        the sample (flagging all or none), 1 − π/2 for correct ones.

    Examples
    --------
    >>> from deepsad.decisions import pu_balanced_accuracy
    >>> y = [-1, -1, -1, -1, 0, 0, 0, 0, 0, 1]
    >>> predictions = [-1, -1, -1, 1, -1, 1, 1, 1, 1, 1]  # 3 of 4 labeled anomalies, 1 of 6 others
    >>> round(pu_balanced_accuracy(y, predictions), 4)
    0.7917
    """
    is_anomaly = _labeled_anomalies(y, "pu_balanced_accuracy")
    predictions = np.asarray(predictions)
    if predictions.shape != is_anomaly.shape:
        raise ValueError(f"predictions must have one decision per label, shape {is_anomaly.shape}; got shape "
                         f"{predictions.shape}")
    found = set(np.unique(predictions).tolist())
    if predictions.dtype == bool or not found <= {-1, 1}:
        raise ValueError(f"predictions must be predict's decisions, -1 (anomaly) or +1 (normal); found {sorted(found)}")
    flagged = predictions == -1
    recall = flagged[is_anomaly].mean()
    flag_rate = flagged[~is_anomaly].mean()
    return float((recall + 1.0 - flag_rate) / 2.0)


def pu_balanced_accuracy_scorer(estimator, X, y) -> float:
    """A scikit-learn scorer of thresholded decisions: ``pu_balanced_accuracy`` of ``predict``.

    It scores the estimator's ``predict`` on a validation fold. With it, ``GridSearchCV`` can
    choose what the threshold depends on (a ``CalibratedDetector``'s ``threshold`` strategy, a
    detector's ``contamination``), which ``pu_auroc_scorer``, a function of the scores alone,
    cannot tell apart. It uses no label
    beyond the training labels: ``GridSearchCV`` fits the estimator on the other folds (a
    ``CalibratedDetector`` chooses its threshold on a calibration part of those) and passes
    this fold's semi-supervised labels y, the same -1/0/+1 that training sees; the true class
    of the unlabeled samples is never read.

    Parameters
    ----------
    estimator : estimator
        A fitted detector with ``predict`` (-1 anomaly, +1 normal).
    X : array-like
        The validation fold's samples.
    y : array-like of shape (n_samples,)
        Their semi-supervised labels (-1 labeled anomaly, 0 unlabeled, +1 known normal).

    Returns
    -------
    float
        ``pu_balanced_accuracy(y, estimator.predict(X))``; higher is better.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from deepsad.baselines import IsolationForest
    >>> from deepsad.decisions import AnomalyStratifiedKFold, CalibratedDetector, pu_balanced_accuracy_scorer
    >>> search = GridSearchCV(CalibratedDetector(IsolationForest(random_state=0), random_state=0),
    ...                       {"threshold": ["fpr:0.01", "fpr:0.05", "f1"]}, scoring=pu_balanced_accuracy_scorer,
    ...                       cv=AnomalyStratifiedKFold(3, random_state=0))  # then search.fit(X, y)
    """
    return pu_balanced_accuracy(y, estimator.predict(X))


def _labeled_anomalies(y, metric: str) -> np.ndarray:
    """Where y marks a labeled anomaly; refused unless both they and other samples are there."""
    is_anomaly = np.asarray(y) == ANOMALY
    if is_anomaly.all() or not is_anomaly.any():
        raise ValueError(
            f"{metric} needs labeled anomalies (-1) and other samples in the fold; it has {int(is_anomaly.sum())} "
            f"labeled anomalies of {len(is_anomaly)} samples (use AnomalyStratifiedKFold to spread them over the folds)"
        )
    return is_anomaly


class AnomalyStratifiedKFold(BaseCrossValidator):
    """K folds stratified on the labeled anomalies: each validation fold holds about 1/K of
    them (at least one) and each training fold keeps the rest (at least one). The other
    samples are spread evenly, labeled normals stratified like the anomalies.

    Parameters
    ----------
    n_splits : int, default=3
        Number of folds; at most the number of labeled anomalies.
    shuffle : bool, default=True
        Shuffle each label's samples before splitting.
    random_state : int or None, default=None
        Seed of the shuffle.
    """

    def __init__(self, n_splits: int = 3, *, shuffle: bool = True, random_state=None):
        if not (isinstance(n_splits, numbers.Integral) and not isinstance(n_splits, bool) and n_splits >= 2):
            raise ValueError(f"n_splits must be an integer ≥ 2; got {n_splits!r}")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _iter_test_indices(self, X=None, y=None, groups=None):
        if y is None:
            raise ValueError("AnomalyStratifiedKFold needs the semi-supervised labels y to split on")
        # the labels' own checks: a NaN or another value would silently join no fold (their
        # convention warning is fit's to give, not the folds')
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LabelConventionWarning)
            y = check_labels(y, len(y) if X is None else len(X))
        n_anomalies = int((y == ANOMALY).sum())
        if n_anomalies < self.n_splits:
            raise ValueError(
                f"{self.n_splits} folds need at least {self.n_splits} labeled anomalies (one per validation fold, "
                f"the others training); y has {n_anomalies}. Use fewer folds or label more anomalies"
            )
        rng = np.random.default_rng(self.random_state)
        folds = [[] for _ in range(self.n_splits)]
        start = 0
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            if self.shuffle:
                members = rng.permutation(members)
            for position, index in enumerate(members):
                # continue the round-robin across labels, so fold sizes stay balanced
                folds[(start + position) % self.n_splits].append(index)
            start += len(members)
        for fold in folds:
            yield np.sort(np.asarray(fold, dtype=int))


def choice_uncertainty(cv_results: dict, metric: str = "score") -> pd.DataFrame:
    """How clear a ``GridSearchCV`` choice is: per candidate its mean and std of the fold
    scores, the mean difference to the best candidate with that difference's standard error
    over the folds (paired: the same folds), and whether it is within one standard error of the
    best — candidates that the folds cannot tell apart from the chosen one. ``metric``: which
    metric of a search with several (``scoring={"name": scorer, ...}``) to assess."""
    suffix = f"_test_{metric}"
    folds = sorted(k for k in cv_results if k.startswith("split") and k.endswith(suffix))
    if not folds:
        metrics = sorted({k.split("_test_", 1)[1] for k in cv_results if k.startswith("split") and "_test_" in k})
        raise ValueError(f"cv_results has no split<i>{suffix} columns; its metrics are {metrics}: pass one as metric=")
    scores = np.column_stack([np.asarray(cv_results[k], dtype=float) for k in folds])
    means = scores.mean(axis=1)  # NaN for a candidate that failed on a fold (error_score=nan)
    if np.isnan(means).all():
        raise ValueError("every candidate failed on some fold: there is no choice to assess")
    best = int(np.nanargmax(means))
    differences = scores - scores[best]
    standard_error = differences.std(axis=1, ddof=1) / np.sqrt(scores.shape[1])
    frame = pd.DataFrame({
        "params": [str(p) for p in cv_results["params"]],
        "mean": scores.mean(axis=1),
        "std": scores.std(axis=1, ddof=1),
        "difference_to_best": differences.mean(axis=1),
        "standard_error": standard_error,
    })
    frame["indistinguishable_from_best"] = frame["difference_to_best"] >= -frame["standard_error"]
    # a failed candidate (NaN) sorts last and is never "indistinguishable"
    return frame.sort_values("mean", ascending=False, kind="stable", na_position="last").reset_index(drop=True)
