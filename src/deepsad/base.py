"""The verbs every deepsad detector shares, derived from one method: ``anomaly_score``.

A detector implements ``fit`` (ending with ``_set_threshold`` on its training scores),
``_anomaly_score`` on validated input and ``_natural_threshold`` (its own decision boundary,
or None); this mixin supplies scikit-learn's outlier-detector conventions on top
(``score_samples``, ``decision_function``, ``predict``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils.validation import check_is_fitted

from deepsad.user_warnings import warn
from deepsad.validation import check_input

AUTO_CONTAMINATION = 0.05
"""With ``contamination="auto"`` and no natural boundary, this fraction of the training data
(known anomalies excluded) falls above the threshold."""


class AnomalyDetectorMixin(OutlierMixin):
    """Outlier-detector verbs from ``anomaly_score`` (higher = more anomalous)."""

    def anomaly_score(self, X) -> np.ndarray:
        """The method's anomaly score of each sample: higher means more anomalous.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            The anomaly scores.
        """
        check_is_fitted(self)
        X = check_input(self, X, reset=False)
        return never_nan(self._anomaly_score(X))

    def score_samples(self, X) -> np.ndarray:
        """Normality score (scikit-learn's convention): higher means more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            The negated anomaly scores.
        """
        return -self.anomaly_score(X)

    def decision_function(self, X) -> np.ndarray:
        """Signed distance to the threshold: negative for anomalies, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``threshold_ - anomaly_score(X)``.
        """
        anomaly_scores = self.anomaly_score(X)
        return self.threshold_ - anomaly_scores

    def predict(self, X) -> np.ndarray:
        """+1 for inliers, -1 for anomalies, using the threshold set at fit time.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            -1 where the anomaly score exceeds ``threshold_``, else +1.
        """
        # Written so that a NaN (which never_nan rules out) could only ever mean "anomaly".
        return np.where(self.decision_function(X) >= 0, 1, -1)

    @property
    def offset_(self) -> float:
        """scikit-learn's name for the threshold on ``score_samples``."""
        return -self.threshold_

    def _set_threshold(self, train_scores: np.ndarray) -> None:
        """Place ``threshold_`` from the training anomaly scores and ``contamination``."""
        _warn_if_constant(train_scores, type(self).__name__)
        contamination = self.contamination
        if contamination == "auto":
            natural = self._natural_threshold()
            if natural is not None:
                self.threshold_ = float(natural)
                return
            contamination = AUTO_CONTAMINATION
        self.threshold_ = float(np.percentile(train_scores, 100.0 * (1.0 - contamination)))


MIN_SAMPLES_FOR_SPREAD = 10
"""Below this many training scores, few distinct values are no sign of a degenerate fit."""


def _warn_if_constant(train_scores: np.ndarray, name: str) -> None:
    """Warn when the training scores take (almost) one value: the fitted model does not tell
    samples apart, and every threshold on it is arbitrary."""
    scores = train_scores[np.isfinite(train_scores)]
    if scores.size < MIN_SAMPLES_FOR_SPREAD:
        return
    spread = float(np.ptp(scores))
    if np.unique(scores).size <= 2 or spread <= 1e-9 * max(1.0, float(np.abs(scores).max())):
        warn(
            f"{name}'s training scores take almost a single value (spread {spread:.3g}): the model does not tell "
            "the samples apart. Check the input scale: an extreme value or outlier column can dominate it "
            "(e.g. the RBF width gamma='scale' of the kernel methods); standardize the data or remove it.",
        )


def never_nan(values: np.ndarray, samples: str = "sample(s)",
              consequence: str = "their anomaly score is set to +inf (most anomalous)") -> np.ndarray:
    """Scores (or per-sample maps, one row each) with NaN replaced by +inf (most anomalous),
    with a warning counting the ``samples`` affected.

    Finite input can still overflow float32 inside a network (inputs far beyond the training
    range, where inf − inf appears); such a sample is unlike anything seen in training, and
    "most anomalous" is the only safe reading of its score: a NaN compares false with every
    threshold and would otherwise pass as normal."""
    nan = np.isnan(values)
    if np.any(nan):
        affected = int(nan.reshape(len(values), -1).any(axis=1).sum())
        warn(f"{affected} {samples} overflowed the float32 range inside the model (inputs far outside the training "
             f"data); {consequence}")
        values = np.where(nan, np.inf, values)
    return values
