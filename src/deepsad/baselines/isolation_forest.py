"""Isolation Forest (Liu et al., ICDM 2008), a thin wrapper over scikit-learn."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest as _SklearnIsolationForest

from deepsad.base import AnomalyDetectorMixin
from deepsad.baselines._common import as_vectors, fit_input
from deepsad.parameters import CONTAMINATION, Interval, check_parameters

# Liu et al.: scores well above 0.5 are anomalies, scores well below are normal.
ISOLATION_SCORE_BOUNDARY = 0.5


class IsolationForest(AnomalyDetectorMixin, BaseEstimator):
    """Isolation Forest (Liu et al., ICDM 2008), unsupervised.

    The score is 2^(−E[h(x)] / c(ψ)) ∈ (0, 1], where h(x) is the path length isolating x in a
    tree grown on ψ = ``max_samples`` sub-sampled points; shallow isolation means anomalous.

    The paper's setting is 100 trees on 256 samples each; with fewer training samples than
    ``max_samples`` every tree uses all of them. With ``contamination="auto"`` the threshold
    is Liu et al.'s 0.5. Labels are ignored: known anomalies (-1) are left out of training
    and known normals (+1) count as unlabeled, with a warning. Images (n, c, h, w) are
    flattened to pixel vectors. A thin configuration of scikit-learn's ``IsolationForest``.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees.
    max_samples : int, default=256
        Samples drawn to grow each tree (ψ); all of them when the training set is smaller.
    n_jobs : int or None, default=None
        Parallel jobs (scikit-learn's meaning).
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data above ``threshold_``; "auto" is Liu et al.'s 0.5.
    random_state : int, RandomState or None, default=None
        Seed of the sub-sampling and the splits.

    Attributes
    ----------
    model_ : sklearn.ensemble.IsolationForest
        The fitted forest.
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    n_features_in_ : int
        Number of features (of the first axis after the samples).
    input_shape_ : tuple of int
        Shape of one sample.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a DataFrame X, when it had string names.

    Examples
    --------
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
        """Fit the detector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Training data; images are flattened to pixel vectors.
        y : array-like of shape (n_samples,), default=None
            Semi-supervised labels (+1 known normal, 0 unlabeled, -1 known anomaly). This
            unsupervised method leaves the known anomalies out and uses the rest alike.

        Returns
        -------
        self
            The fitted detector.
        """
        check_parameters(self)
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
