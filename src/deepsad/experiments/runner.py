"""Run one experiment end to end and describe the outcome as a JSON-ready record."""

from __future__ import annotations

import platform
import time
import warnings
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import torch
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from deepsad._version import __version__
from deepsad.baselines import Hybrid
from deepsad.experiments.methods import make_estimator
from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.selection import select, train_hybrid_autoencoder
from deepsad.experiments.shared_autoencoders import FittedAutoencoder, SharedAutoencoders
from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import Task, build_task

RECORD_VERSION = 1


def run_experiment(
    experiment: Experiment,
    *,
    root: str | None = None,
    download: bool = True,
    device: str | None = None,
    model_path: str | None = None,
    autoencoders: SharedAutoencoders | None = None,
) -> tuple[dict, ExperimentOutcome]:
    """Fit the experiment's method on its training set, score its test set.

    Returns the record (definition, metrics, sizes, times, per-epoch losses, environment)
    and the test outcome (scores, truth, indices). ``device`` overrides the deep methods' device; the model is
    saved to ``model_path`` when given (deep methods only).

    With ``experiment.selection`` the parameters are first chosen by that protocol (its
    description goes into the record's ``"selection"``); under the paper's protocol the metrics,
    sizes and outcome cover only the 90% of the test set it did not tune on. The record's
    ``seconds["selection"]`` includes a hybrid's autoencoder training, which its final fit reuses.
    With ``autoencoders`` a hybrid loads its autoencoder from there when another run trained
    the same one (and saves it there otherwise); the record's ``"autoencoder"`` says which.
    """
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    clock = time.perf_counter()
    task = build_task(experiment, root=root, download=download)
    data_seconds = time.perf_counter() - clock

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clock = time.perf_counter()
        reused_before = autoencoders.reused if autoencoders is not None else 0
        selection = select(experiment, task, device, autoencoders) if experiment.selection is not None else None
        selection_seconds = time.perf_counter() - clock
        autoencoder_seconds = 0.0
        if selection is None:
            estimator = make_estimator(experiment.method, experiment.params, experiment.seed, device)
            if autoencoders is not None and isinstance(estimator, Hybrid):
                clock = time.perf_counter()
                autoencoder = train_hybrid_autoencoder(estimator, task.X_train, task.y_train, autoencoders)
                estimator.set_params(autoencoder=FittedAutoencoder(autoencoder))
                autoencoder_seconds = time.perf_counter() - clock
        else:
            estimator = selection.estimator
            if selection.report_mask is not None:
                keep = selection.report_mask
                task = replace(task, X_test=task.X_test[keep], test_truth=task.test_truth[keep],
                               test_indices=task.test_indices[keep])
        clock = time.perf_counter()
        estimator.fit(task.X_train, task.y_train)
        train_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        scores = np.asarray(estimator.anomaly_score(task.X_test), dtype=np.float64)
        predicted_anomaly = estimator.predict(task.X_test) == -1
        test_seconds = time.perf_counter() - clock
    if model_path is not None:
        if not hasattr(estimator, "save"):
            raise ValueError(f"method {experiment.method!r} cannot be saved to a model file")
        estimator.save(model_path)

    record = {
        "record_version": RECORD_VERSION,
        "key": experiment.key,
        "experiment": experiment.to_dict(),
        "metrics": evaluate(task.test_truth, scores, predicted_anomaly),
        "threshold": float(estimator.threshold_),
        "sizes": _sizes(task),
        "known_anomaly_classes": list(task.known_anomaly_classes),
        "seconds": {"data": data_seconds, "train": train_seconds, "test": test_seconds},
        "history": _history(estimator),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
        "environment": _environment(estimator),
        "started_at": started_at,
    }
    if selection is not None:
        record["selection"] = selection.record()
        record["seconds"]["selection"] = selection_seconds
    if autoencoders is not None and isinstance(estimator, Hybrid):
        if selection is None:
            record["seconds"]["autoencoder"] = autoencoder_seconds
        reused = autoencoders.reused > reused_before
        record["autoencoder"] = "reused (trained by an earlier run)" if reused else "trained"
    return record, ExperimentOutcome(scores, task.test_truth, task.test_indices)


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


def _sizes(task: Task) -> dict[str, int]:
    s = task.scenario
    return {
        "train": int(len(task.X_train)),
        "test": int(len(task.X_test)),
        "test_anomalies": int(task.test_truth.sum()),
        "known_normal": s.n_known_normal,
        "unlabeled_normal": s.n_unlabeled_normal,
        "known_anomaly": s.n_known_anomaly,
        "pollution": s.n_pollution,
    }


def _history(estimator) -> dict:
    history = getattr(estimator, "history_", None) or {}
    kept = {}
    for stage, log in history.items():
        if isinstance(log, dict) and "loss" in log:
            kept[stage] = {"loss": [float(v) for v in log["loss"]], "seconds": float(sum(log.get("seconds", [])))}
        elif isinstance(log, bool | int | float | str):
            kept[stage] = log
        elif isinstance(log, list) and all(isinstance(v, int | float) for v in log):
            kept[stage] = [float(v) for v in log]
    return kept


def _environment(estimator) -> dict:
    device = getattr(estimator, "device_", None)
    return {
        "deepsad": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "device": str(device) if device is not None else "cpu",
        "torch_threads": torch.get_num_threads(),
    }
