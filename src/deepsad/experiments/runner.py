"""Run one experiment end to end: build its task, prepare its estimator, fit it and score the
test set once, and describe the outcome in a record."""

from __future__ import annotations

import platform
import time
import warnings
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import torch

from deepsad._version import __version__
from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.preparation import prepare_estimator
from deepsad.experiments.records import RunRecord, evaluate, training_history
from deepsad.experiments.shared_autoencoders import SharedAutoencoders
from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import Task, build_task
from deepsad.labels import LabelConventionWarning


def run_experiment(
    experiment: Experiment,
    *,
    root: str | None = None,
    download: bool = False,
    device: str | None = None,
    model_path: str | None = None,
    autoencoders: SharedAutoencoders | None = None,
) -> tuple[RunRecord, ExperimentOutcome]:
    """Fit the experiment's method on its training set and score its test set.

    Returns the record and the test outcome (scores, truth, indices). The data are read from
    ``root`` (downloaded only with ``download``); ``device`` overrides the deep methods'
    device; the fitted model is saved to ``model_path`` when given (deep methods only). Under
    the paper's selection protocol the metrics, sizes and outcome cover only the 90% of the
    test set it did not tune on. With ``autoencoders`` a hybrid shares its autoencoder with
    the other runs that train the same one.
    """
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    clock = time.perf_counter()
    task = build_task(experiment, root=root, download=download)
    seconds = {"data": time.perf_counter() - clock}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # The scenario builder writes deepsad's labels: known normals without known anomalies
        # (γl = 0, γn > 0) are meant, not the other convention.
        warnings.simplefilter("ignore", LabelConventionWarning)
        prepared = prepare_estimator(experiment, task, device, autoencoders)
        if prepared.report_mask is not None:
            task = _restricted(task, prepared.report_mask)
        estimator, scores, predicted_anomaly, fit_seconds = fit_and_score(prepared.estimator, task)
    if model_path is not None:
        if not hasattr(estimator, "save"):
            raise ValueError(f"method {experiment.method!r} cannot be saved to a model file")
        estimator.save(model_path)
    record = RunRecord(
        key=experiment.key,
        experiment=experiment.to_dict(),
        metrics=evaluate(task.test_truth, scores, predicted_anomaly),
        threshold=float(estimator.threshold_),
        sizes=_sizes(task),
        known_anomaly_classes=list(task.known_anomaly_classes),
        seconds={**seconds, **fit_seconds, **prepared.seconds},
        history=training_history(estimator),
        warnings=sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
        environment=_environment(estimator),
        started_at=started_at,
        selection=prepared.selection,
        autoencoder=prepared.autoencoder,
    )
    return record, ExperimentOutcome(scores, task.test_truth, task.test_indices)


def fit_and_score(estimator, task: Task) -> tuple[object, np.ndarray, np.ndarray, dict[str, float]]:
    """Fit on the training set and score the test set once: the fitted estimator, the test
    anomaly scores, which of them are predicted anomalous, and the seconds of each step."""
    clock = time.perf_counter()
    estimator.fit(task.X_train, task.y_train)
    train_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    scores = np.asarray(estimator.anomaly_score(task.X_test), dtype=np.float64)
    # The rule of ``predict``, on the scores already computed.
    predicted_anomaly = scores > estimator.threshold_
    return estimator, scores, predicted_anomaly, {"train": train_seconds, "test": time.perf_counter() - clock}


def _restricted(task: Task, keep: np.ndarray) -> Task:
    return replace(task, X_test=task.X_test[keep], test_truth=task.test_truth[keep], test_indices=task.test_indices[keep])


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
