"""Hybrid baselines of Ruff et al. (ICLR 2020): a shallow detector fitted on the bottleneck
codes of an autoencoder instead of the raw input."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone

from deepsad.base import AnomalyDetectorMixin
from deepsad.baselines.ocsvm import OCSVM
from deepsad.labels import ANOMALY
from deepsad.models import Autoencoder
from deepsad.parameters import CONTAMINATION, HasMethods, check_parameters
from deepsad.validation import check_training_data


class Hybrid(AnomalyDetectorMixin, BaseEstimator):
    """A shallow detector on the codes φ(x) of an autoencoder: the paper's hybrid baselines.

    The detector is any of ``OCSVM``, ``IsolationForest``, ``KDE``, ``SSAD`` (or another
    deepsad detector). ``fit`` trains the autoencoder on the samples not labeled as
    anomalies (it is unsupervised), encodes all of X, and fits the detector on the codes
    with the same labels, so a semi-supervised detector such as SSAD still learns from them
    (an unsupervised one leaves the known anomalies out and says so). The anomaly score is
    the detector's score of the codes.

    Both components are cloned at fit time; their parameters are reachable as
    ``detector__<name>`` and ``autoencoder__<name>`` (e.g. ``autoencoder__random_state``).
    With ``contamination="auto"`` the threshold is the detector's own (its boundary, or its
    ``contamination``); a number places it at that fraction of the training data, known
    anomalies excluded.

    Parameters
    ----------
    detector : estimator, default=None
        The shallow detector; None means ``OCSVM()``.
    autoencoder : Autoencoder, default=None
        The autoencoder whose codes the detector sees; None means ``Autoencoder()``.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data (known anomalies excluded) above ``threshold_``;
        "auto" is the detector's own threshold.

    Attributes
    ----------
    autoencoder_ : Autoencoder
        The fitted autoencoder.
    detector_ : estimator
        The fitted detector; its ``n_features_in_`` is the autoencoder's ``rep_dim_``.
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
    >>> from deepsad.baselines import OCSVM, Hybrid
    >>> from deepsad.models import Autoencoder
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> model = Hybrid(OCSVM(nu=0.1), autoencoder=Autoencoder(ae_epochs=5, random_state=0)).fit(X)
    >>> model.detector_.n_features_in_ == model.autoencoder_.rep_dim_
    True
    """

    _parameter_constraints: dict = {
        "detector": [None, HasMethods(["fit", "anomaly_score"])],
        "autoencoder": [None, HasMethods(["fit", "encode"])],
        "contamination": CONTAMINATION,
    }

    def __init__(self, detector=None, *, autoencoder=None, contamination="auto"):
        self.detector = detector
        self.autoencoder = autoencoder
        self.contamination = contamination

    def fit(self, X, y=None):
        """Fit the detector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Semi-supervised labels: +1 known normal, 0 unlabeled, -1 known anomaly (None:
            all unlabeled).

        Returns
        -------
        self
            The fitted detector.
        """
        check_parameters(self)
        X, labels = check_training_data(self, X, y, uses_labels=True, use_instead="SSAD")
        self.autoencoder_ = Autoencoder() if self.autoencoder is None else clone(self.autoencoder)
        # Fitted without labels on what the unsupervised autoencoder would keep anyway, so its
        # warning that labels are ignored does not fire when the detector does use them.
        self.autoencoder_.fit(X[labels != ANOMALY])
        codes = self.autoencoder_.encode(X)
        self.detector_ = OCSVM() if self.detector is None else clone(self.detector)
        self.detector_.fit(codes, labels)
        self._set_threshold(self.detector_.anomaly_score(codes[labels != ANOMALY]))
        return self

    def _anomaly_score(self, X: np.ndarray) -> np.ndarray:
        return self.detector_.anomaly_score(self.autoencoder_.encode(X))

    def _natural_threshold(self) -> float:
        return self.detector_.threshold_
