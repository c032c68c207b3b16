"""Split-conformal p-values of anomaly scores and Benjamini–Hochberg false-discovery control.

With n held-out calibration scores of normal samples, the p-value of a new score s is

    p(s) = (1 + #{calibration scores ≥ s}) / (n + 1).

If the new sample is normal and exchangeable with the calibration samples, P(p ≤ α) ≤ α for
every α: flagging p ≤ α keeps the false-alarm rate at most α (Vovk et al., 2005; Bates et al.,
"Testing for outliers with conformal p-values", Ann. Statist. 2023). A p-value is not the
probability that the sample is normal; it is how unusual its score is among normal scores.

For a batch, flagging by Benjamini–Hochberg at level q keeps the expected fraction of false
discoveries among the flagged at most q; conformal p-values share the calibration set, are
positively dependent (PRDS) and BH stays valid for them (Bates et al., 2023).
"""

from __future__ import annotations

import warnings

import numpy as np


def conformal_p_values(calibration_scores: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``(1 + #{calibration ≥ s}) / (n + 1)`` for each score ``s``. Vectorised: one binary
    search per score (the calibration scores are sorted first)."""
    calibration = np.sort(np.asarray(calibration_scores, dtype=np.float64))
    scores = np.asarray(scores, dtype=np.float64)
    if np.isnan(calibration).any() or np.isnan(scores).any():
        raise ValueError("conformal p-values of NaN scores are undefined")
    at_least = len(calibration) - np.searchsorted(calibration, scores, side="left")
    return (1.0 + at_least) / (len(calibration) + 1.0)


def benjamini_hochberg(p_values: np.ndarray, fdr: float) -> np.ndarray:
    """Boolean mask of the discoveries of the Benjamini–Hochberg procedure at level ``fdr``:
    the k smallest p-values, k the largest with p_(k) ≤ k·fdr/m."""
    p_values = np.asarray(p_values, dtype=np.float64)
    m = len(p_values)
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p_values, kind="stable")
    below = p_values[order] <= fdr * np.arange(1, m + 1) / m
    discoveries = np.zeros(m, dtype=bool)
    if below.any():
        k = int(np.flatnonzero(below)[-1]) + 1
        discoveries[order[:k]] = True
    return discoveries


def split_conformal_rates(
    scores: np.ndarray, truth: np.ndarray, alphas, splits: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Realised false-alarm rate and recall of conformal thresholds on a labeled test set:
    each of ``splits`` random halvings calibrates on one half's normal samples (``truth`` 0; the
    known normals a user sets aside) and flags the other half's samples with p-value ≤ α.
    Returns the false-alarm rate on that half's normal samples and the recall on its anomalies
    (``truth`` 1), each averaged over the splits: two arrays of ``len(alphas)``, NaN where a
    half had no sample of the class.

    The false-alarm rate is ≤ α in expectation whatever the model (the samples of one class
    are exchangeable); what it shows is how close to α, and what recall that rate buys."""
    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(truth) == 1
    alphas = np.asarray(alphas, dtype=np.float64)
    rng = np.random.default_rng(seed)
    false_alarms, recalls = [], []
    for _ in range(splits):
        order = rng.permutation(len(scores))
        calibration, held_out = order[: len(order) // 2], order[len(order) // 2 :]
        calibration = calibration[~truth[calibration]]
        if len(calibration) == 0:
            continue
        flagged = conformal_p_values(scores[calibration], scores[held_out])[:, None] <= alphas[None, :]
        anomalous = truth[held_out]
        false_alarms.append(flagged[~anomalous].mean(axis=0) if (~anomalous).any() else np.full(len(alphas), np.nan))
        recalls.append(flagged[anomalous].mean(axis=0) if anomalous.any() else np.full(len(alphas), np.nan))
    if not false_alarms:
        return np.full(len(alphas), np.nan), np.full(len(alphas), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "mean of empty slice": a class absent, NaN
        return np.nanmean(false_alarms, axis=0), np.nanmean(recalls, axis=0)
