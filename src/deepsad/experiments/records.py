"""The record of one finished experiment: a typed value, written to the results store as JSON.

Imports no model, so reports read records without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

RECORD_VERSION = 1


@dataclass(frozen=True)
class RunRecord:
    """What one experiment gave and how: its definition and key, the test metrics (``evaluate``),
    the fitted threshold, the sizes of the training and test sets, the classes the labeled
    anomalies came from, the seconds of each step, the per-epoch losses, the warnings raised,
    the software and device, and when it started. ``selection`` describes a selection
    protocol's choice; ``autoencoder`` says whether a hybrid's autoencoder was trained or
    reused from the shared folder."""

    key: str
    experiment: dict
    metrics: dict[str, float]
    threshold: float
    sizes: dict[str, int]
    known_anomaly_classes: list[int]
    seconds: dict[str, float]
    history: dict
    warnings: list[str]
    environment: dict
    started_at: str
    selection: dict | None = None
    autoencoder: str | None = None

    def to_dict(self) -> dict:
        """The JSON-ready record (``record_version`` first; unset optional entries left out)."""
        record = {"record_version": RECORD_VERSION}
        for name in ("key", "experiment", "metrics", "threshold", "sizes", "known_anomaly_classes", "seconds",
                     "history", "warnings", "environment", "started_at", "selection", "autoencoder"):
            value = getattr(self, name)
            if value is not None or name not in ("selection", "autoencoder"):
                record[name] = value
        return record


def evaluate(truth: np.ndarray, scores: np.ndarray, predicted_anomaly: np.ndarray) -> dict[str, float]:
    """AUROC and AUPRC of the scores (anomalies positive), F1 of the fitted threshold."""
    if not np.all(np.isfinite(scores)):
        raise ValueError("the model returned non-finite anomaly scores on the test set")
    if len(np.unique(truth)) < 2:
        raise ValueError("the test set must contain both normal and anomalous samples")
    return {
        "auroc": float(roc_auc_score(truth, scores)),
        "auprc": float(average_precision_score(truth, scores)),
        "f1": float(f1_score(truth, predicted_anomaly.astype(int), zero_division=0.0)),
    }


def training_history(estimator) -> dict:
    """The JSON-ready part of an estimator's ``history_``: per stage the per-epoch losses and
    the total seconds, and the scalar and list entries as they are."""
    history = getattr(estimator, "history_", None) or {}
    kept = {}
    for stage, log in history.items():
        if isinstance(log, dict) and "loss" in log:
            kept[stage] = {"loss": [float(v) for v in log["loss"]], "seconds": float(sum(log.get("seconds", [])))}
            if "models_trained_together" in log:  # the seconds are then the pass's, shared out
                kept[stage]["models_trained_together"] = int(log["models_trained_together"])
            if log.get("loaded"):  # trained by an earlier fit and loaded (PretrainingCache)
                kept[stage]["loaded"] = True
        elif isinstance(log, bool | int | float | str):
            kept[stage] = log
        elif isinstance(log, list) and all(isinstance(v, int | float) for v in log):
            kept[stage] = [float(v) for v in log]
    return kept
