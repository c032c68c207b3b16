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
    y = np.asarray(y)
    is_anomaly = y == ANOMALY
    if is_anomaly.all() or not is_anomaly.any():
        raise ValueError(
            f"pu_auroc needs labeled anomalies (-1) and other samples in the fold; it has {int(is_anomaly.sum())} "
            f"labeled anomalies of {len(y)} samples (use AnomalyStratifiedKFold to spread them over the folds)"
        )
    return float(roc_auc_score(is_anomaly, np.asarray(scores)))


def pu_auroc_scorer(estimator, X, y) -> float:
    """A scikit-learn scorer (``scoring=pu_auroc_scorer``): ``pu_auroc`` of the estimator's
    ``anomaly_score`` on a validation fold."""
    return pu_auroc(y, estimator.anomaly_score(X))


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
