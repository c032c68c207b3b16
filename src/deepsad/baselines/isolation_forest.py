"""Isolation Forest (Liu et al., ICDM 2008), a thin wrapper over scikit-learn."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest as _SklearnIsolationForest

from deepsad.base import AnomalyDetectorMixin
from deepsad.baselines._common import as_vectors, fit_input
from deepsad.parameters import CONTAMINATION, Interval

# Liu et al.: scores well above 0.5 are anomalies, scores well below are normal.
ISOLATION_SCORE_BOUNDARY = 0.5


class IsolationForest(AnomalyDetectorMixin, BaseEstimator):
    """Isolation Forest (unsupervised): the score 2^(−E[h(x)] / c(ψ)) ∈ (0, 1] of Liu et al.,
    where h(x) is the path length isolating x in a tree grown on ψ = ``max_samples``
    sub-sampled points; shallow isolation means anomalous.

    The paper's setting is 100 trees on 256 samples each; with fewer training samples than
    ``max_samples`` every tree uses all of them. With ``contamination="auto"`` the threshold
    is Liu et al.'s 0.5. Labels are ignored: known anomalies (-1) are left out of training
    and known normals (+1) count as unlabeled, with a warning. Images (n, c, h, w) are
    flattened to pixel vectors.

    Example
    -------
    >>> import numpy as np
    >>> from deepsad.baselines import IsolationForest
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> model = IsolationForest(random_state=0).fit(X)
    >>> bool(model.anomaly_score([[8.0, 8.0]])[0] > model.anomaly_score([[0.0, 0.0]])[0])
    True
    """

    _parameter_constraints: dict = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "contamination": CONTAMINATION,
        "random_state": ["random_state"],
    }

    def __init__(self, *, n_estimators=100, max_samples=256, n_jobs=None, contamination="auto", random_state=None):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.n_jobs = n_jobs
        self.contamination = contamination
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit on X (n, d) or (n, c, h, w); y holds semi-supervised labels (+1, 0, -1),
        which this unsupervised method ignores apart from leaving out known anomalies."""
        self._validate_params()
        X, _ = fit_input(self, X, y, uses_labels=False)
        self.model_ = _SklearnIsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, X.shape[0]),
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(X)
        self._set_threshold(self._anomaly_score(X))
        return self

    def _anomaly_score(self, X: np.ndarray) -> np.ndarray:
        return -self.model_.score_samples(as_vectors(X))

    def _natural_threshold(self) -> float:
        return ISOLATION_SCORE_BOUNDARY
