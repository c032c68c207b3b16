"""The probability that a sample is an anomaly, from its anomaly score: Platt scaling on a
calibration set with labeled anomalies, moved to the prevalence the user expects.

A score says how anomalous a sample looks; a probability also needs to know how common
anomalies are. Platt scaling (Platt, 1999) fits P(anomaly | score) = σ(a·score + b) by
logistic regression on held-out scores. The calibration set's own mix of labeled anomalies
(a handful) and normal samples says nothing about the mix in new data, so the regression
weighs both classes equally — it estimates the log-likelihood ratio of the two classes'
score distributions — and the prevalence π is added as prior log-odds (Bayes' rule; the
prior-shift correction of Saerens et al., Neural Computation 2002):

    P(anomaly | s) = σ(a·s + b + log(π / (1 − π))).

The negatives are the calibration set's known normals and unlabeled samples; unlabeled
anomalies among them make the estimated ratio, and so the probabilities, somewhat too low.
The labeled anomalies stand for the anomalies to come only as far as they resemble them (a
known anomaly class says little about a novel one). With a few labeled anomalies the fitted
slope is uncertain; the L2 penalty, weighed against the k labeled anomalies' evidence (both
classes count k samples in all), keeps it finite and cautious when the classes separate.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from deepsad.user_warnings import warn


@dataclass(frozen=True)
class PlattScaling:
    """Balanced-class log-odds ``slope · score + intercept`` of an anomaly given its score,
    fitted on ``n_anomalies`` labeled anomalies and ``n_normal`` normal or unlabeled scores."""

    slope: float
    intercept: float
    n_normal: int
    n_anomalies: int

    @classmethod
    def fit(cls, normal_scores, anomaly_scores) -> PlattScaling:
        normal = np.asarray(normal_scores, dtype=np.float64)
        anomalous = np.asarray(anomaly_scores, dtype=np.float64)
        if anomalous.size == 0:
            raise ValueError(
                "probabilities are calibrated on labeled anomalies, and the calibration set has none: label some "
                "anomalies (-1) in y or y_calibration, or use p_value(), which needs none"
            )
        if normal.size == 0:
            raise ValueError("probabilities need normal or unlabeled calibration samples; the calibration set has none")
        scores = np.r_[normal, anomalous]
        center, spread = scores.mean(), scores.std()
        spread = spread if spread > 0 else 1.0
        # Standardised scores make the default L2 penalty mean the same for every detector's scale.
        standardised = ((scores - center) / spread)[:, None]
        truth = np.r_[np.zeros(normal.size), np.ones(anomalous.size)]
        # Both classes weigh as much as the k labeled anomalies together (normal samples k/n
        # each): balanced, and the L2 penalty measured against k samples' worth of evidence,
        # so two anomalies give a cautious slope, thousands an exact one.
        weights = np.r_[np.full(normal.size, anomalous.size / normal.size), np.ones(anomalous.size)]
        regression = LogisticRegression().fit(standardised, truth, sample_weight=weights)
        slope = float(regression.coef_[0, 0]) / spread
        intercept = float(regression.intercept_[0]) - slope * center
        fitted = cls(slope, intercept, int(normal.size), int(anomalous.size))
        fitted.warn_if_not_increasing()
        return fitted

    def warn_if_not_increasing(self) -> None:
        if self.slope <= 0:
            warn(
                "the calibration's labeled anomalies do not score higher than its normal samples; the probabilities "
                "fitted on them do not grow with the anomaly score and mean little"
            )

    def probability(self, scores, prevalence) -> np.ndarray:
        """P(anomaly | score) where a fraction ``prevalence`` of the samples are anomalies; in
        [0, 1] (float64 rounds the extremes to exactly 0 or 1)."""
        prior = check_prevalence(prevalence)
        self.warn_if_not_increasing()  # at every use: a loaded model's user never saw the fit's warning
        scores = np.asarray(scores, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            weighted = self.slope * scores
        # a flat fit (slope 0) gives an infinite score (an overflow, see anomaly_score) no weight
        weighted = np.where(np.isnan(weighted) & ~np.isnan(scores), 0.0, weighted)
        return expit(weighted + self.intercept + np.log(prior / (1 - prior)))


def check_prevalence(prevalence) -> float:
    if not (isinstance(prevalence, numbers.Real) and not isinstance(prevalence, bool) and 0 < prevalence < 1):
        raise ValueError(
            f"prevalence must be the expected fraction of anomalies among the samples, a number in (0, 1); "
            f"got {prevalence!r}"
        )
    return float(prevalence)
