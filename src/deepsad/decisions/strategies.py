"""Threshold strategies: where to cut anomaly scores into decisions, and how sure that cut is.

A strategy ``choose``\\ s a threshold from the scores of presumed-normal samples (unlabeled and
labeled normal ones) and, where it uses them, of labeled anomalies. A sample is flagged when
its score is *above* the threshold, as every deepsad detector's ``predict`` does.

==========================  ===========================================================  =========
strategy (text form)        threshold                                                    needs
==========================  ===========================================================  =========
``contamination:0.05``      the (1 − 0.05) quantile of the normal scores                 –
``percentile:99``           the 99th percentile of the normal scores                     –
``mean+std:3``              mean + 3 standard deviations of the normal scores            –
``fpr:0.01``                the conformal (1 − α) quantile: on held-out normal scores,   –
                            a false-alarm rate ≤ α on new normal samples, guaranteed
``recall:0.9``              the highest threshold that flags 90% of the labeled          anomalies
                            anomalies
``f1``                      the threshold of best F1 between normal and anomalous        anomalies
                            scores (a labeled validation set)
==========================  ===========================================================  =========

Each returns a ``Threshold`` with what the scores say about the cut: the realised false-alarm
rate on the normal scores and, with labeled anomalies, the recall, each with a Clopper–Pearson
95% interval, because a handful of labels estimate little.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import binomtest

CONFIDENCE = 0.95
"""The confidence level of the intervals a ``Threshold`` reports."""


@dataclass(frozen=True)
class Threshold:
    """A threshold on anomaly scores (flag where score > ``value``) and its estimated rates.

    ``estimates`` maps ``"false_alarm_rate"`` and, where labeled anomalies were given,
    ``"recall"`` and ``"precision"`` to ``(estimate, low, high)``: the rate on the scores the
    threshold was chosen from, and a Clopper–Pearson interval at ``CONFIDENCE``. On the very
    scores a threshold was tuned to, the estimate is optimistic; ``CalibratedDetector`` chooses
    it on held-out data for that reason.
    """

    value: float
    strategy: str
    estimates: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"threshold {self.value:.6g} ({self.strategy})"]
        for name, (estimate, low, high) in self.estimates.items():
            parts.append(f"{name.replace('_', ' ')} {estimate:.3f} [{low:.3f}, {high:.3f}]")
        return "; ".join(parts)


class Strategy:
    """Base of the strategies: ``choose(normal_scores, anomaly_scores)`` → ``Threshold``."""

    needs_anomalies = False
    text = ""

    def choose(self, normal_scores, anomaly_scores=None) -> Threshold:
        normal, anomalous = _checked_scores(normal_scores, anomaly_scores, self)
        value = float(self._value(normal, anomalous))
        return Threshold(value, self.text, _estimates(value, normal, anomalous))

    min_normal = 1

    def check_sizes(self, n_normal: int, n_anomalies: int) -> None:
        """Refuse, before any training, calibration sizes the strategy cannot work with."""
        if n_normal < self.min_normal:
            raise ValueError(
                f"threshold {self.text} needs at least {self.min_normal} unlabeled or normal sample(s) to choose it "
                f"from; the calibration data have {n_normal}"
            )
        if self.needs_anomalies and n_anomalies == 0:
            _checked_scores(np.zeros(max(n_normal, 1)), None, self)

    def _value(self, normal: np.ndarray, anomalous: np.ndarray) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.text == self.text

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.text))


class Contamination(Strategy):
    """The expected fraction of anomalies: that fraction of the normal scores lies above."""

    def __init__(self, fraction: float):
        self.fraction = _open_unit(fraction, "contamination")
        self.text = f"contamination:{_exact(fraction)}"

    def _value(self, normal, anomalous):
        return np.percentile(normal, 100.0 * (1.0 - self.fraction))


class Percentile(Strategy):
    """A percentile (0 < q < 100) of the normal scores."""

    def __init__(self, q: float):
        if not (_is_number(q) and 0 < q < 100):
            raise ValueError(f"percentile must be a number in (0, 100); got {q!r}")
        self.q = float(q)
        self.text = f"percentile:{_exact(q)}"

    def _value(self, normal, anomalous):
        return np.percentile(normal, self.q)


class MeanStd(Strategy):
    """Mean + k standard deviations (ddof=1) of the normal scores — the textbook rule, which
    assumes roughly Gaussian scores; anomaly scores are usually skewed, so its false-alarm rate
    is what the estimate says, not what k suggests."""

    min_normal = 2

    def __init__(self, k: float):
        if not (_is_number(k) and math.isfinite(k)):
            raise ValueError(f"k of mean+std must be a finite number; got {k!r}")
        self.k = float(k)
        self.text = f"mean+std:{_exact(k)}"

    def _value(self, normal, anomalous):
        if len(normal) < 2:
            raise ValueError("mean+std needs at least 2 normal scores")
        return normal.mean() + self.k * normal.std(ddof=1)


class FalseAlarmRate(Strategy):
    """The split-conformal threshold for a false-alarm rate α: the ⌈(n + 1)(1 − α)⌉-th smallest
    of n held-out normal scores. If those n scores and a new normal sample's score are
    exchangeable (the held-out samples were not trained on), the new sample is flagged with
    probability ≤ α. Unlabeled held-out data that hold some anomalies only raise the threshold:
    the rate on normal samples stays ≤ α. Needs n ≥ 1/α − 1."""

    def __init__(self, alpha: float):
        self.alpha = _open_unit(alpha, "the false-alarm rate α")
        self.text = f"fpr:{_exact(alpha)}"

    def check_sizes(self, n_normal: int, n_anomalies: int) -> None:
        super().check_sizes(n_normal, n_anomalies)
        conformal_quantile(np.zeros(n_normal), self.alpha)

    def _value(self, normal, anomalous):
        return conformal_quantile(np.sort(normal), self.alpha)


class Recall(Strategy):
    """The highest threshold that flags at least a fraction r of the labeled anomalies."""

    needs_anomalies = True

    def __init__(self, recall: float):
        if not (_is_number(recall) and 0 < recall <= 1):
            raise ValueError(f"the recall target must be a number in (0, 1]; got {recall!r}")
        self.recall = float(recall)
        self.text = f"recall:{_exact(recall)}"

    def _value(self, normal, anomalous):
        flagged = max(1, math.ceil(self.recall * len(anomalous) - 1e-9))  # r > 0 flags at least one
        highest_first = np.sort(anomalous)[::-1]
        return np.nextafter(highest_first[flagged - 1], -np.inf)


class BestF1(Strategy):
    """The threshold of the best F1 score, anomalies the positive class (ties: the highest)."""

    needs_anomalies = True
    text = "f1"

    def _value(self, normal, anomalous):
        scores = np.concatenate([normal, anomalous])
        is_anomaly = np.r_[np.zeros(len(normal), bool), np.ones(len(anomalous), bool)]
        order = np.argsort(-scores, kind="stable")
        scores, is_anomaly = scores[order], is_anomaly[order]
        # Flag the k highest scores, k = 1..n; only cuts between distinct scores are possible.
        true_positives = np.cumsum(is_anomaly)
        flagged = np.arange(1, len(scores) + 1)
        f1 = 2 * true_positives / (flagged + len(anomalous))
        cut = np.r_[scores[:-1] != scores[1:], True]
        best = int(np.flatnonzero(cut)[np.argmax(f1[cut])])
        return np.nextafter(scores[best], -np.inf)


def _exact(value) -> str:
    """The number as it round-trips (no rounding: a saved strategy refits to the same rule),
    without a trailing ".0"; a numpy float in its own precision's shortest form."""
    text = str(value) if isinstance(value, np.floating) else repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class CalibrationTooSmall(ValueError):
    """The calibration part is too small for what is asked of it: give more calibration data
    (a larger ``calibration_size``) or ask less (a larger α)."""


def conformal_quantile(sorted_scores: np.ndarray, alpha: float) -> float:
    """The ⌈(n + 1)(1 − α)⌉-th smallest of n sorted scores; a clear error where n is too small."""
    n = len(sorted_scores)
    rank = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    if rank > n:
        raise CalibrationTooSmall(
            f"a calibration set of {n} normal samples supports a false-alarm rate α ≥ 1/(n + 1) = {1 / (n + 1):.3g}; "
            f"α = {alpha:g} needs at least {math.ceil(1 / alpha - 1)} samples"
        )
    return float(sorted_scores[rank - 1])


def parse_strategy(text) -> Strategy:
    """A strategy from its text form (``"fpr:0.01"``, ``"f1"``; see the module's table) or a
    ``Strategy`` as it is."""
    if isinstance(text, Strategy):
        return text
    if not isinstance(text, str):
        raise ValueError(f"threshold must be a strategy such as 'fpr:0.01' or a Strategy; got {text!r}")
    name, _, argument = text.strip().partition(":")
    makers = {"contamination": Contamination, "percentile": Percentile, "mean+std": MeanStd, "fpr": FalseAlarmRate,
              "recall": Recall}  # fmt: skip
    if name == "f1" and not argument:
        return BestF1()
    if name not in makers or not argument:
        raise ValueError(
            f"unknown threshold strategy {text!r}; use one of contamination:F, percentile:Q, mean+std:K, fpr:ALPHA, "
            "recall:R, f1 (e.g. fpr:0.01)"
        )
    try:
        value = float(argument)
    except ValueError:
        raise ValueError(f"threshold strategy {text!r}: {argument!r} is not a number") from None
    return makers[name](value)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _open_unit(value, what: str) -> float:
    if not (_is_number(value) and 0 < value < 1):
        raise ValueError(f"{what} must be a number in (0, 1); got {value!r}")
    return float(value)


def _checked_scores(normal_scores, anomaly_scores, strategy: Strategy) -> tuple[np.ndarray, np.ndarray]:
    normal = np.asarray(normal_scores, dtype=np.float64).ravel()
    anomalous = np.asarray([] if anomaly_scores is None else anomaly_scores, dtype=np.float64).ravel()
    if normal.size == 0:
        raise ValueError(f"threshold {strategy.text}: there are no normal or unlabeled scores to choose it from")
    if not (np.isfinite(normal).all() and np.isfinite(anomalous).all()):
        raise ValueError(
            f"threshold {strategy.text}: the scores hold NaN or infinite values (inputs far outside the training "
            "data score +inf); remove those samples from the calibration data"
        )
    if strategy.needs_anomalies and anomalous.size == 0:
        raise ValueError(
            f"threshold {strategy.text} needs labeled anomalies (label -1) among the samples it is chosen on; there "
            "are none. Label some anomalies, or use a strategy of the normal scores alone (fpr:ALPHA, contamination:F)"
        )
    return normal, anomalous


def _estimates(value: float, normal: np.ndarray, anomalous: np.ndarray) -> dict[str, tuple[float, float, float]]:
    false_alarms = int((normal > value).sum())
    estimates = {"false_alarm_rate": _proportion(false_alarms, len(normal))}
    if len(anomalous):
        hits = int((anomalous > value).sum())
        estimates["recall"] = _proportion(hits, len(anomalous))
        if hits + false_alarms:
            estimates["precision"] = _proportion(hits, hits + false_alarms)
    return estimates


def _proportion(successes: int, trials: int) -> tuple[float, float, float]:
    interval = binomtest(successes, trials).proportion_ci(CONFIDENCE, method="exact")
    return successes / trials, float(interval.low), float(interval.high)
