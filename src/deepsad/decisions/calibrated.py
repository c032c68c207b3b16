"""``CalibratedDetector``: any deepsad detector, with a threshold chosen on held-out data,
conformal p-values and false-discovery control."""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from deepsad.base import AnomalyDetectorMixin
from deepsad.decisions.conformal import benjamini_hochberg, conformal_p_values
from deepsad.decisions.probability import PlattScaling
from deepsad.decisions.strategies import CalibrationTooSmall, Threshold, parse_strategy
from deepsad.labels import ANOMALY
from deepsad.models.persistence import save_model
from deepsad.validation import as_numpy, check_labels

CALIBRATION = "CalibratedDetector"
SCORES = "calibration_scores"
"""How a model file names the calibration stored beside its detector, and its scores tensor."""


class CalibratedDetector(AnomalyDetectorMixin, BaseEstimator):
    """A detector whose decisions are calibrated on samples it did not train on.

    ``fit`` sets aside a calibration part of the training data (or takes one given), fits a
    clone of ``detector`` on the rest, scores the calibration samples and chooses the
    threshold there with the ``threshold`` strategy. The calibration scores of the unlabeled
    and labeled-normal samples then give conformal p-values: ``predict(X, alpha=0.01)`` flags
    a new normal sample with probability at most α, and ``predict(X, fdr=0.1)`` keeps the
    expected fraction of false discoveries in a batch at most 0.1 (Benjamini–Hochberg).

    The guarantees assume that the calibration samples and the new normal samples come from
    one distribution (exchangeable) and that the model never trained on the calibration
    samples. Unlabeled calibration data that hold a few anomalies make the rate on normal
    samples only lower (the guarantee stays, conservatively).

    With ``probability=True``, ``anomaly_probability(X, prevalence=π)`` also gives the
    probability that a sample is an anomaly where a fraction π of the samples are
    (``deepsad.decisions.probability``: Platt scaling on the calibration part's labeled
    anomalies, moved to the prevalence π by Bayes' rule). Unlike the p-value, it carries no
    guarantee: it is as good as the labeled anomalies are representative.

    Parameters
    ----------
    detector : estimator
        A deepsad detector (``DeepSAD()``, ``DeepSVDD()``, ``IsolationForest()``, ...): it
        must have ``fit(X, y)`` and ``anomaly_score(X)``. It is cloned, never fitted itself.
    threshold : str or Strategy, default="fpr:0.05"
        How ``predict`` without arguments cuts the scores (``deepsad.decisions.strategies``):
        ``"fpr:ALPHA"``, ``"contamination:F"``, ``"percentile:Q"``, ``"mean+std:K"``,
        ``"recall:R"``, ``"precision@recall:R"``, ``"f1"``, ``"soft-boundary"``. The recall,
        precision and F1 strategies need labeled anomalies in the calibration part;
        ``"soft-boundary"`` is the sphere the fitted detector learned and needs a
        ``DeepSVDD(objective="soft-boundary")`` (the calibration part then only estimates
        its rates and gives the p-values).
    calibration_size : float, default=0.2
        The fraction of the unlabeled and labeled-normal samples set aside for calibration
        when ``fit`` is not given ``X_calibration``. Labeled anomalies are split the same way
        only for strategies that need them (and for ``probability``), and at least one always
        stays in training.
    probability : bool, default=False
        Fit the score-to-probability calibration of ``anomaly_probability``; needs labeled
        anomalies in the calibration part (so at least two in y when it is split off).
    random_state : int or None, default=None
        Seed of the calibration split.

    Attributes
    ----------
    detector_ : estimator
        The fitted clone of ``detector``.
    threshold_ : float
        Anomaly scores above it are predicted anomalous by ``predict()``.
    threshold_info_ : Threshold
        The threshold with its strategy and the false-alarm rate (and, with labeled
        anomalies, recall and precision) realised on the calibration samples, each with a
        Clopper–Pearson 95% interval.
    calibration_scores_ : ndarray of shape (n_calibration,)
        The sorted anomaly scores of the unlabeled and labeled-normal calibration samples.
    probability_ : PlattScaling or None
        With ``probability=True``: the balanced-class log-odds ``slope · score + intercept``
        of an anomaly and the counts they were fitted on; else None.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad.baselines import IsolationForest
    >>> from deepsad.decisions import CalibratedDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> model = CalibratedDetector(IsolationForest(random_state=0), threshold="fpr:0.05", random_state=0).fit(X)
    >>> X_new = np.vstack([rng.normal(size=(4, 3)), [[6.0, 6.0, 6.0]]])
    >>> model.predict(X_new, alpha=0.05).tolist()
    [1, 1, 1, 1, -1]
    >>> float(model.p_value([[6.0, 6.0, 6.0]])[0]) == 1 / (len(model.calibration_scores_) + 1)
    True
    """

    def __init__(self, detector, *, threshold="fpr:0.05", calibration_size=0.2, probability=False, random_state=None):
        self.detector = detector
        self.threshold = threshold
        self.calibration_size = calibration_size
        self.probability = probability
        self.random_state = random_state

    def fit(self, X, y=None, *, X_calibration=None, y_calibration=None):
        """Fit ``detector`` on the training part and calibrate on the rest.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Training samples.
        y : array-like of shape (n_samples,), default=None
            Semi-supervised labels: +1 known normal, 0 unlabeled, -1 known anomaly; None: all
            unlabeled.
        X_calibration : array-like, default=None
            Calibration samples the detector does not train on; None: split them off ``X``.
        y_calibration : array-like, default=None
            Their labels (None: all unlabeled).

        Returns
        -------
        CalibratedDetector
            The fitted detector (self).
        """
        strategy = parse_strategy(self.threshold)
        strategy.check_detector(self.detector)
        if not isinstance(self.probability, (bool, np.bool_)):
            raise ValueError(f"probability must be True or False; got {self.probability!r}")
        needs_anomalies = strategy.needs_anomalies or bool(self.probability)
        X = as_numpy(X)
        if not hasattr(X, "iloc"):
            X = np.asarray(X)
        y = check_labels(y, len(X))
        if X_calibration is None:
            if y_calibration is not None:
                raise ValueError("y_calibration was given without X_calibration")
            purpose = f"the threshold {strategy.text}" if strategy.needs_anomalies else "probability=True"
            train, calibration = calibration_split(y, self.calibration_size, needs_anomalies, self.random_state,
                                                   purpose=purpose)
            X_train, y_train, X_cal, y_cal = _rows(X, train), y[train], _rows(X, calibration), y[calibration]
        else:
            X_train, y_train = X, y
            X_cal = as_numpy(X_calibration, "X_calibration")
            y_cal = check_labels(y_calibration, len(X_cal), names=("y_calibration", "X_calibration"))
        strategy.check_sizes(int((y_cal != ANOMALY).sum()), int((y_cal == ANOMALY).sum()))
        if self.probability and not np.any(y_cal == ANOMALY):
            raise ValueError(
                "probability=True calibrates on labeled anomalies, and y_calibration has none: label some anomalies "
                "(-1) in it, or use p_value(), which needs none"
            )
        detector = clone(self.detector)
        if not hasattr(detector, "anomaly_score"):
            raise TypeError(f"detector must have an anomaly_score method (a deepsad detector); got {type(detector).__name__}")
        detector.fit(X_train, y_train)
        scores = np.asarray(detector.anomaly_score(X_cal), dtype=np.float64)
        normal_scores = np.sort(scores[y_cal != ANOMALY])
        info = strategy.choose(normal_scores, scores[y_cal == ANOMALY], detector=detector)
        self.detector_ = detector
        self.calibration_scores_ = normal_scores
        self.threshold_info_: Threshold = info
        self.threshold_ = info.value
        self.probability_ = PlattScaling.fit(normal_scores, scores[y_cal == ANOMALY]) if self.probability else None
        return self

    def anomaly_score(self, X) -> np.ndarray:
        """The detector's anomaly scores (higher = more anomalous).

        Parameters
        ----------
        X : array-like
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            The anomaly scores.
        """
        check_is_fitted(self)
        return np.asarray(self.detector_.anomaly_score(X), dtype=np.float64)

    def p_value(self, X) -> np.ndarray:
        """Conformal p-values: (1 + #{calibration scores ≥ score}) / (n_calibration + 1).

        Small means unusual among normal samples: a new normal sample gets p ≤ α with
        probability at most α. It is not the probability that the sample is normal.

        Parameters
        ----------
        X : array-like
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            The p-values, in [1 / (n_calibration + 1), 1].
        """
        check_is_fitted(self)
        return conformal_p_values(self.calibration_scores_, self.anomaly_score(X))

    def anomaly_probability(self, X, *, prevalence) -> np.ndarray:
        """The probability that each sample is an anomaly, where a fraction ``prevalence``
        of the samples are anomalies.

        Platt scaling fitted on the calibration part (its labeled anomalies against its
        normal and unlabeled samples, the two weighed equally), moved to ``prevalence`` by
        Bayes' rule (``deepsad.decisions.probability``). It is as good as the labeled
        anomalies represent the anomalies to come, and has no guarantee; ``p_value`` has one.

        Parameters
        ----------
        X : array-like
            Samples of the shape seen by ``fit``.
        prevalence : float in (0, 1)
            The expected fraction of anomalies among the samples scored (e.g. the
            contamination of the data the model runs on). It must be given: the same score
            means a higher probability where anomalies are more common.

        Returns
        -------
        ndarray of shape (n_samples,)
            P(anomaly | score), in [0, 1] (extreme scores or prevalences round to exactly 0
            or 1), growing with the anomaly score — unless the calibration's labeled anomalies
            scored lower than its normal samples, which a warning says at fit and at every call.
        """
        check_is_fitted(self)
        if self.probability_ is None:
            raise ValueError("this CalibratedDetector was fitted with probability=False; fit it with probability=True "
                             "(and labeled anomalies) for anomaly_probability")
        return self.probability_.probability(self.anomaly_score(X), prevalence)

    def predict(self, X, *, alpha=None, fdr=None) -> np.ndarray:
        """+1 for inliers, -1 for anomalies.

        Parameters
        ----------
        X : array-like
            Samples of the shape seen by ``fit``.
        alpha : float in (0, 1), default=None
            Flag the samples with p-value ≤ alpha: a false-alarm rate of at most alpha on
            normal samples.
        fdr : float in (0, 1), default=None
            Flag by Benjamini–Hochberg on the batch's p-values: an expected fraction of false
            discoveries among the flagged of at most fdr.
            Without alpha and fdr, the samples scoring above ``threshold_`` are flagged.

        Returns
        -------
        ndarray of shape (n_samples,)
            -1 for the flagged samples, else +1.
        """
        if alpha is not None and fdr is not None:
            raise ValueError("give alpha (a false-alarm rate per sample) or fdr (a false-discovery rate), not both")
        check_is_fitted(self)
        if alpha is None and fdr is None:
            return super().predict(X)  # the cut at threshold_, as every detector predicts
        level = _level(alpha if fdr is None else fdr, "alpha" if fdr is None else "fdr")
        smallest = 1 / (len(self.calibration_scores_) + 1)
        if level < smallest:
            raise ValueError(
                f"{'alpha' if fdr is None else 'fdr'} = {level:g} is below the smallest p-value of this calibration "
                f"set of {len(self.calibration_scores_)} samples, 1/(n + 1) = {smallest:.3g}: nothing could ever be "
                f"flagged. Use a level ≥ {smallest:.3g} or calibrate on at least {int(np.ceil(1 / level - 1))} samples"
            )
        p_values = self.p_value(X)
        flagged = p_values <= level if fdr is None else benjamini_hochberg(p_values, level)
        return np.where(flagged, -1, 1)

    def save(self, path) -> None:
        """Write the fitted detector and its calibration to one model file.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write; the file appears complete or not at all. The detector must be
            one that can be saved (the deep estimators). ``deepsad.load(path)`` reads it
            back as a ``CalibratedDetector``.
        """
        check_is_fitted(self)
        info = self.threshold_info_
        entry = {
            "params": {"threshold": info.strategy, "calibration_size": self.calibration_size,
                       "probability": self.probability_ is not None, "random_state": self.random_state},
            "threshold": info.value,
            "estimates": {name: list(values) for name, values in info.estimates.items()},
        }  # fmt: skip
        if self.probability_ is not None:
            entry["probability"] = dataclasses.asdict(self.probability_)
        scores = torch.as_tensor(np.asarray(self.calibration_scores_, dtype=np.float64))
        save_model(self.detector_, path, extension=(CALIBRATION, entry, {SCORES: scores}))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _rows(X, indices: np.ndarray):
    """Rows of an array or DataFrame by position (a DataFrame keeps its column names)."""
    return X.iloc[indices] if hasattr(X, "iloc") else np.asarray(X)[indices]


def _level(value, name: str) -> float:
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < 1):
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}")
    return float(value)


def calibration_split(y, calibration_size, with_anomalies: bool, random_state=None, *,
                      purpose: str = "this threshold") -> tuple[np.ndarray, np.ndarray]:
    """Sorted training and calibration indices for semi-supervised labels ``y``: a fraction
    ``calibration_size`` of the unlabeled and known-normal samples and, ``with_anomalies``, of
    the labeled anomalies (at least one of which stays in training and one calibrates)."""
    y = np.asarray(y)
    if not (isinstance(calibration_size, numbers.Real) and not isinstance(calibration_size, bool)
            and 0 < calibration_size < 1):  # fmt: skip
        raise ValueError(f"calibration_size must be a number in (0, 1); got {calibration_size!r}")
    rng = np.random.default_rng(random_state)
    normal = rng.permutation(np.flatnonzero(y != ANOMALY))
    anomalies = rng.permutation(np.flatnonzero(y == ANOMALY))
    n_normal = int(round(calibration_size * len(normal)))
    if n_normal < 1 or n_normal >= len(normal):
        raise CalibrationTooSmall(
            f"calibration_size={calibration_size:g} of {len(normal)} unlabeled and normal samples leaves "
            f"{n_normal} for calibration and {len(normal) - n_normal} for training; each needs at least one"
        )
    n_anomalies = 0
    if with_anomalies:
        if len(anomalies) < 2:
            raise ValueError(
                f"{purpose} needs labeled anomalies in both parts (one to train on, one to calibrate on); y has "
                f"{len(anomalies)}. Pass X_calibration with labeled anomalies"
                + (", or use fpr:ALPHA" if purpose != "probability=True" else ", or use p_value(), which needs none")
            )
        n_anomalies = min(max(1, int(round(calibration_size * len(anomalies)))), len(anomalies) - 1)
    calibration = np.concatenate([normal[:n_normal], anomalies[:n_anomalies]])
    train = np.concatenate([normal[n_normal:], anomalies[n_anomalies:]])
    return np.sort(train), np.sort(calibration)
