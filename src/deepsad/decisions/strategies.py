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
``precision@recall:0.9``    the threshold of highest precision among those that flag     anomalies
                            at least 90% of the labeled anomalies
``f1``                      the threshold of best F1 between normal and anomalous        anomalies
                            scores (a labeled validation set)
``soft-boundary``           the sphere of radius R a soft-boundary Deep SVDD learned     the fitted
                            (its score ‖φ(x) − c‖² − R² is above 0 outside)              detector
==========================  ===========================================================  =========

Each returns a ``Threshold`` with what the scores say about the cut: the realised false-alarm
rate on the normal scores and, with labeled anomalies, the recall and precision, each with a
Clopper–Pearson 95% interval, because a handful of labels estimate little.
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

    def choose(self, normal_scores, anomaly_scores=None, *, detector=None) -> Threshold:
        """The threshold of this strategy, with the rates it realises on the scores given.

        Parameters
        ----------
        normal_scores : array-like of shape (n_normal,)
            Anomaly scores of unlabeled and labeled-normal samples.
        anomaly_scores : array-like of shape (n_anomalies,), default=None
            Anomaly scores of labeled anomalies; the strategies of labeled anomalies need them.
        detector : estimator, default=None
            The fitted detector that gave the scores; only ``soft-boundary`` reads it (its
            sphere), the others cut the scores alone.

        Returns
        -------
        Threshold
            The value (flag where score > value), the strategy's text and the estimated rates.

        Examples
        --------
        >>> from deepsad.decisions import parse_strategy
        >>> parse_strategy("percentile:90").choose([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]).value
        9.1
        """
        normal, anomalous = _checked_scores(normal_scores, anomaly_scores, self)
        value = float(self._threshold(normal, anomalous, detector))
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

    def check_detector(self, detector) -> None:
        """Refuse, before any training, a detector the strategy cannot take its threshold from
        (every strategy but ``soft-boundary`` works with any detector's scores)."""

    def _threshold(self, normal: np.ndarray, anomalous: np.ndarray, detector) -> float:
        """The cut; a cut of the scores by default (``_value``), whatever the detector."""
        return self._value(normal, anomalous)

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
    """The highest threshold that flags at least a fraction r of the labeled anomalies: just
    below the k-th highest of n, k = ⌈r·n⌉. On new anomalies like the labeled ones it flags a
    fraction k/(n + 1) on average, at most r/(n + 1) short of r (an empirical quantile)."""

    needs_anomalies = True

    def __init__(self, recall: float):
        self.recall = _recall_target(recall)
        self.text = f"recall:{_exact(recall)}"

    def _value(self, normal, anomalous):
        flagged = _anomalies_to_flag(self.recall, len(anomalous))
        highest_first = np.sort(anomalous)[::-1]
        return np.nextafter(highest_first[flagged - 1], -np.inf)


class PrecisionAtRecall(Strategy):
    """The most precise threshold among those that flag a fraction r of the labeled anomalies.

    Of the thresholds that flag at least a fraction r of them, the one of highest precision
    (ties: the one that flags the most of them). Precision is TP / (TP + FP), the labeled
    anomalies the positives and the normal and unlabeled samples the negatives. Maximising it
    minimises the false-alarm rate per unit of recall, FPR / recall, so the chosen cut does not
    depend on how many anomalies the calibration data hold against normal samples; the
    precision it reports does: it is the precision at the calibration data's own mix, and
    unlabeled anomalies among the negatives count as false alarms (the estimate is low where
    they are many).

    Parameters
    ----------
    recall : float in (0, 1]
        The smallest fraction of the labeled anomalies the threshold must flag.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad.decisions import PrecisionAtRecall
    >>> normal = np.arange(1.0, 101.0)
    >>> anomalies = np.array([50.0, 99.5, 150.0, 160.0])
    >>> threshold = PrecisionAtRecall(0.75).choose(normal, anomalies)  # flags 99.5, 100, 150, 160
    >>> bool(99.0 < threshold.value < 99.5), threshold.estimates["precision"][0]
    (True, 0.75)
    """

    needs_anomalies = True

    def __init__(self, recall: float):
        self.recall = _recall_target(recall)
        self.text = f"precision@recall:{_exact(recall)}"

    def _value(self, normal, anomalous):
        scores, true_positives, cut = _ranked(normal, anomalous)
        flagged = np.arange(1, len(scores) + 1)
        enough = cut & (true_positives >= _anomalies_to_flag(self.recall, len(anomalous)))
        candidates = np.flatnonzero(enough)  # never empty: flagging every score flags every anomaly
        # integer ratios: equal precisions are equal floats, so the tie goes to the most recall
        precision = true_positives[candidates] / flagged[candidates]
        best = int(candidates[np.flatnonzero(precision == precision.max())[-1]])
        return np.nextafter(scores[best], -np.inf)


class BestF1(Strategy):
    """The threshold of the best F1 score, anomalies the positive class (ties: the highest)."""

    needs_anomalies = True
    text = "f1"

    def _value(self, normal, anomalous):
        scores, true_positives, cut = _ranked(normal, anomalous)
        flagged = np.arange(1, len(scores) + 1)
        f1 = 2 * true_positives / (flagged + len(anomalous))
        best = int(np.flatnonzero(cut)[np.argmax(f1[cut])])
        return np.nextafter(scores[best], -np.inf)


class SoftBoundary(Strategy):
    """The sphere a soft-boundary Deep SVDD learned: flag the samples outside its radius R.

    For ``DeepSVDD(objective="soft-boundary")``, whose score ‖φ(x) − c‖² − R² is above 0
    outside the sphere. The radius is fitted with the network, so that at most a fraction ν
    of the training data lie outside (Ruff et al., ICML 2018); the threshold is the model's
    own boundary, read from the fitted detector (its objective's ``natural_threshold``), not
    a cut of the scores. The scores given to ``choose`` only estimate the rates it realises
    there. A detector that learns no such radius (Deep SAD, a one-class Deep SVDD, whose R is
    0) is refused.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad import DeepSAD, DeepSVDD
    >>> from deepsad.decisions import SoftBoundary
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> detector = DeepSVDD(objective="soft-boundary", nu=0.1, epochs=5, ae_epochs=5, random_state=0).fit(X[:150])
    >>> SoftBoundary().choose(detector.anomaly_score(X[150:]), detector=detector).value
    0.0
    >>> SoftBoundary().check_detector(DeepSAD())
    Traceback (most recent call last):
    ...
    ValueError: threshold soft-boundary is the sphere a soft-boundary Deep SVDD learns ...
    """

    text = "soft-boundary"

    def check_detector(self, detector) -> None:
        if getattr(detector, "objective", None) == "soft-boundary":
            return
        name = type(detector).__name__
        if hasattr(detector, "objective"):
            name += f"(objective={detector.objective!r})"
        raise ValueError(
            f"threshold soft-boundary is the sphere a soft-boundary Deep SVDD learns "
            f"(DeepSVDD(objective='soft-boundary')); {name} learns no such radius. Fit a soft-boundary Deep SVDD, or "
            "use a strategy of the scores (fpr:ALPHA, contamination:F)"
        )

    def _threshold(self, normal, anomalous, detector) -> float:
        if detector is None:
            raise ValueError("threshold soft-boundary is the fitted detector's sphere, not a cut of the scores: pass the "
                             "fitted soft-boundary DeepSVDD as detector=")
        self.check_detector(detector)
        boundary = getattr(getattr(detector, "model_", None), "natural_threshold", None)
        if boundary is None:
            raise ValueError(f"threshold soft-boundary reads the sphere of a fitted detector; this "
                             f"{type(detector).__name__} is not fitted: call fit first")
        return boundary


def _ranked(normal: np.ndarray, anomalous: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All scores highest first, the true positives among the k highest (k = 1..n), and where
    a cut below the k-th is possible (only between distinct scores)."""
    scores = np.concatenate([normal, anomalous])
    is_anomaly = np.r_[np.zeros(len(normal), bool), np.ones(len(anomalous), bool)]
    order = np.argsort(-scores, kind="stable")
    scores = scores[order]
    cut = np.r_[scores[:-1] != scores[1:], True]
    return scores, np.cumsum(is_anomaly[order]), cut


def _anomalies_to_flag(recall: float, n_anomalies: int) -> int:
    """How many of n labeled anomalies a recall target needs flagged: r > 0 flags at least one."""
    return max(1, math.ceil(recall * n_anomalies - 1e-9))


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
              "recall": Recall, "precision@recall": PrecisionAtRecall}  # fmt: skip
    without_argument = {"f1": BestF1, "soft-boundary": SoftBoundary}
    if name in without_argument and not argument:
        return without_argument[name]()
    if name not in makers or not argument:
        raise ValueError(
            f"unknown threshold strategy {text!r}; use one of contamination:F, percentile:Q, mean+std:K, fpr:ALPHA, "
            "recall:R, precision@recall:R, f1, soft-boundary (e.g. fpr:0.01)"
        )
    try:
        value = float(argument)
    except ValueError:
        raise ValueError(f"threshold strategy {text!r}: {argument!r} is not a number") from None
    return makers[name](value)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _recall_target(recall) -> float:
    if not (_is_number(recall) and 0 < recall <= 1):
        raise ValueError(f"the recall target must be a number in (0, 1]; got {recall!r}")
    return float(recall)


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
