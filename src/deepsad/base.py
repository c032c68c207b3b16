"""The verbs every deepsad detector shares, derived from one method: ``anomaly_score``.

A detector implements ``fit`` (calling ``_set_threshold`` on its training scores) and
``_anomaly_score`` on validated input; this mixin supplies scikit-learn's outlier-detector
conventions on top (``score_samples``, ``decision_function``, ``predict``).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from deepsad.validation import check_input

# With contamination="auto" and no natural boundary, this fraction of the training data
# (known anomalies excluded) falls above the threshold.
AUTO_CONTAMINATION = 0.05


class AnomalyDetectorMixin(OutlierMixin):
    """Outlier-detector verbs from ``anomaly_score`` (higher = more anomalous)."""

    _contamination_constraint = [StrOptions({"auto"}), Interval(Real, 0.0, 0.5, closed="right")]

    def anomaly_score(self, X) -> np.ndarray:
        """The method's anomaly score for each sample: higher means more anomalous."""
        check_is_fitted(self)
        X = check_input(self, X, reset=False)
        return self._anomaly_score(X)

    def score_samples(self, X) -> np.ndarray:
        """Normality score (scikit-learn convention): higher means more normal."""
        return -self.anomaly_score(X)

    def decision_function(self, X) -> np.ndarray:
        """Signed distance to the threshold: negative for anomalies, positive for inliers."""
        anomaly_scores = self.anomaly_score(X)
        return self.threshold_ - anomaly_scores

    def predict(self, X) -> np.ndarray:
        """+1 for inliers, -1 for anomalies, using the threshold set at fit time."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    @property
    def offset_(self) -> float:
        """scikit-learn's name for the threshold on ``score_samples``."""
        return -self.threshold_

    def _natural_threshold(self) -> float | None:
        """A threshold the method itself defines (e.g. the soft-boundary radius), if any."""
        return None

    def _set_threshold(self, train_scores: np.ndarray) -> None:
        """Place ``threshold_`` from the training anomaly scores and ``contamination``."""
        contamination = self.contamination
        if contamination == "auto":
            natural = self._natural_threshold()
            if natural is not None:
                self.threshold_ = float(natural)
                return
            contamination = AUTO_CONTAMINATION
        self.threshold_ = float(np.percentile(train_scores, 100.0 * (1.0 - contamination)))
