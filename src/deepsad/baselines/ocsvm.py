"""One-class SVM with an RBF kernel (Schölkopf et al., 2001), a thin wrapper over scikit-learn.

With the RBF kernel, k(x, x) = 1 for every x, so the OC-SVM and kernel SVDD (Tax & Duin, 2004)
give the same decision function: the OC-SVM with parameter ν is the SVDD whose dual box
bound is C = 1 / (ν n) for n training samples. ``SSAD`` without labels is that SVDD.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.svm import OneClassSVM

from deepsad.base import AnomalyDetectorMixin
from deepsad.baselines._common import (
    GAMMA_CONSTRAINT,
    as_vectors,
    fit_input,
    resolve_gamma,
)
from deepsad.parameters import CONTAMINATION, Interval, check_parameters


class OCSVM(AnomalyDetectorMixin, BaseEstimator):
    """One-class SVM (unsupervised) with the RBF kernel exp(−γ‖x − x'‖²).

    ``nu`` ∈ (0, 1] is an upper bound on the fraction of training samples outside the
    boundary and a lower bound on the fraction of support vectors. The anomaly score is
    the negated SVM decision function, so the learned boundary is at 0 (the threshold with
    ``contamination="auto"``). Labels are ignored: known anomalies (-1) are left out of
    training and known normals (+1) count as unlabeled, with a warning. Images
    (n, c, h, w) are flattened to pixel vectors. A thin configuration of scikit-learn's
    ``OneClassSVM``.

    Parameters
    ----------
    nu : float in (0, 1], default=0.1
        Upper bound on the fraction of training samples outside the boundary, lower bound on
        the fraction of support vectors.
    gamma : "scale" or float, default="scale"
        The RBF width γ; "scale" is 1 / (n_features · Var(X)).
    tol : float, default=1e-3
        The solver's stopping tolerance.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data above ``threshold_``; "auto" is the SVM's own boundary (score 0).

    Attributes
    ----------
    model_ : sklearn.svm.OneClassSVM
        The fitted SVM.
    gamma_ : float
        The γ used.
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
    >>> from deepsad.baselines import OCSVM
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> model = OCSVM(nu=0.1).fit(X)
    >>> bool(model.predict([[0.0, 0.0], [6.0, 6.0]]).tolist() == [1, -1])
    True
    """

    _parameter_constraints: dict = {
        "nu": [Interval(Real, 0, 1, closed="right")],
        "gamma": GAMMA_CONSTRAINT,
        "tol": [Interval(Real, 0, None, closed="neither")],
        "contamination": CONTAMINATION,
    }

    def __init__(self, *, nu=0.1, gamma="scale", tol=1e-3, contamination="auto"):
        self.nu = nu
        self.gamma = gamma
        self.tol = tol
        self.contamination = contamination

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
        self.gamma_ = resolve_gamma(self.gamma, X)
        svm = OneClassSVM(kernel="rbf", nu=self.nu, gamma=self.gamma_, tol=self.tol)
        # libsvm's seed is drawn from NumPy's global generator unless one is set, which would
        # change the caller's random state; the one-class solver never uses it.
        svm.random_state = 0
        self.model_ = svm.fit(X)
        self._set_threshold(self._anomaly_score(X))
        return self

    def _anomaly_score(self, X: np.ndarray) -> np.ndarray:
        return -self.model_.decision_function(as_vectors(X))

    def _natural_threshold(self) -> float:
        return 0.0
