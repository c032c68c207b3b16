"""Run experiments end to end: build each task, prepare its estimator, fit it and score the
test set once, and describe the outcome in a record. Several experiments run together fit their
deep models together (``deepsad.fit_many``)."""

from __future__ import annotations

import platform
import time
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np
import torch
from sklearn.base import clone

from deepsad._version import __version__
from deepsad.experiments.gallery import heatmap_gallery
from deepsad.experiments.outcome import ExperimentOutcome
from deepsad.experiments.preparation import Prepared, prepare_estimator
from deepsad.experiments.records import RunRecord, evaluate, training_history
from deepsad.experiments.shared_autoencoders import SharedAutoencoders
from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import Task, build_task
from deepsad.labels import LabelConventionWarning
from deepsad.models import PretrainingCache, fit_many_recording_warnings


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
    [result] = run_experiments([experiment], root=root, download=download, device=device, autoencoders=autoencoders,
                               _model_path=model_path)
    if isinstance(result, BaseException):
        raise result
    return result


def run_experiments(
    experiments: Sequence[Experiment],
    *,
    root: str | None = None,
    download: bool = False,
    device: str | None = None,
    autoencoders: SharedAutoencoders | None = None,
    stack="auto",
    pretrained: PretrainingCache | None = None,
    _model_path: str | None = None,
) -> list[tuple[RunRecord, ExperimentOutcome] | Exception]:
    """``run_experiment`` for several experiments, their deep models fitted together
    (``deepsad.fit_many``: those that match train as one stacked model; ``stack`` as there),
    pretraining stages found in ``pretrained`` loaded instead of trained.

    Returns, per experiment and in order, its record and outcome, or the exception that
    stopped it: one failing experiment does not stop the others.
    """
    results: list = [None] * len(experiments)
    runs: dict[int, _Run] = {}
    for index, experiment in enumerate(experiments):
        try:
            runs[index] = _prepare(experiment, root, download, device, autoencoders)
        except Exception as error:  # noqa: BLE001 - returned for this experiment alone
            results[index] = error
    for index, outcome in _fit_and_score_all(runs, stack, pretrained).items():
        if isinstance(outcome, Exception):
            results[index] = outcome
            continue
        try:
            results[index] = _result(runs[index], *outcome, _model_path)
        except Exception as error:  # noqa: BLE001 - this experiment's failure, not its pack's
            results[index] = error
    return results


def _result(run: _Run, estimator, scores, predicted_anomaly, fit_seconds, model_path) -> tuple:
    """The record and test outcome of a fitted and scored experiment (its model saved to
    ``model_path`` when given)."""
    if model_path is not None:
        if not hasattr(estimator, "save"):
            raise ValueError(f"method {run.experiment.method!r} cannot be saved to a model file")
        estimator.save(model_path)
    task = run.task
    record = RunRecord(
        key=run.experiment.key,
        experiment=run.experiment.to_dict(),
        metrics=evaluate(task.test_truth, scores, predicted_anomaly),
        threshold=float(estimator.threshold_),
        sizes=_sizes(task),
        known_anomaly_classes=list(task.known_anomaly_classes),
        seconds={**run.seconds, **fit_seconds, **run.prepared.seconds},
        history=training_history(estimator),
        warnings=sorted({f"{w.category.__name__}: {w.message}" for w in run.warnings}),
        environment=_environment(estimator),
        started_at=run.started_at,
        selection=run.prepared.selection,
        autoencoder=run.prepared.autoencoder,
    )
    gallery = heatmap_gallery(estimator, task.X_test, scores)
    return record, ExperimentOutcome(scores, task.test_truth, task.test_indices, **gallery)


@dataclass(eq=False)
class _Run:
    """An experiment with its task and prepared estimator, the seconds spent so far and the
    warnings raised for it."""

    experiment: Experiment
    task: Task
    prepared: Prepared
    seconds: dict
    started_at: str
    warnings: list = field(default_factory=list)


@contextmanager
def _warnings_recorded_into(log: list):
    """Record every warning raised inside into ``log``, except the label-convention warning:
    the scenario builder writes deepsad's labels, so known normals without known anomalies
    (γl = 0, γn > 0) are meant."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", LabelConventionWarning)
        try:
            yield
        finally:
            log.extend(caught)


def _note(message: str) -> warnings.WarningMessage:
    """A warning for a record that the runner itself adds."""
    return warnings.WarningMessage(message, RuntimeWarning, __file__, 0)


def _prepare(experiment, root, download, device, autoencoders) -> _Run:
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    clock = time.perf_counter()
    task = build_task(experiment, root=root, download=download)
    seconds = {"data": time.perf_counter() - clock}
    log: list = []
    with _warnings_recorded_into(log):
        prepared = prepare_estimator(experiment, task, device, autoencoders)
    if prepared.report_mask is not None:
        task = _restricted(task, prepared.report_mask)
    return _Run(experiment, task, prepared, seconds, started_at, log)


def _fit_and_score_all(runs: dict[int, _Run], stack, pretrained) -> dict[int, tuple | Exception]:
    """Fit the prepared estimators together and score each test set once; if fitting together
    fails, each is fitted alone, so an error is that of its own experiment."""
    indices = list(runs)
    outcomes: dict[int, tuple | Exception] = {}
    if len(indices) > 1 or pretrained is not None:
        estimators = [runs[i].prepared.estimator for i in indices]
        shared: list = []
        try:
            with _warnings_recorded_into(shared):
                clock = time.perf_counter()
                fitted, caught = fit_many_recording_warnings(
                    estimators, [runs[i].task.X_train for i in indices], [runs[i].task.y_train for i in indices],
                    stack=stack, pretrained=pretrained,
                )
                seconds = (time.perf_counter() - clock) / len(indices)  # the pack's time, shared out
        except Exception as error:  # noqa: BLE001 - fitted one by one below, which attributes the error
            for i in indices:  # start again from unfitted copies, and say why
                runs[i].prepared = replace(runs[i].prepared, estimator=clone(runs[i].prepared.estimator))
                runs[i].warnings.append(_note(f"fitting the pack together failed ({type(error).__name__}: {error}); "
                                              "its experiments were fitted one by one"))
        else:
            for i, estimator, log in zip(indices, fitted, caught):
                runs[i].warnings.extend(log)
                try:
                    scores, predicted_anomaly, test_seconds = _score(estimator, runs[i].task)
                except Exception as error:  # noqa: BLE001 - this experiment's failure
                    outcomes[i] = error
                    continue
                outcomes[i] = (estimator, scores, predicted_anomaly, {"train": seconds, "test": test_seconds})
            return outcomes
    for i in indices:
        try:
            with _warnings_recorded_into(runs[i].warnings):
                outcomes[i] = fit_and_score(runs[i].prepared.estimator, runs[i].task)
        except Exception as error:  # noqa: BLE001 - this experiment's failure
            outcomes[i] = error
    return outcomes


def fit_and_score(estimator, task: Task) -> tuple[object, np.ndarray, np.ndarray, dict[str, float]]:
    """Fit on the training set and score the test set once: the fitted estimator, the test
    anomaly scores, which of them are predicted anomalous, and the seconds of each step."""
    clock = time.perf_counter()
    estimator.fit(task.X_train, task.y_train)
    train_seconds = time.perf_counter() - clock
    scores, predicted_anomaly, test_seconds = _score(estimator, task)
    return estimator, scores, predicted_anomaly, {"train": train_seconds, "test": test_seconds}


def _score(estimator, task: Task) -> tuple[np.ndarray, np.ndarray, float]:
    clock = time.perf_counter()
    scores = np.asarray(estimator.anomaly_score(task.X_test), dtype=np.float64)
    # The rule of ``predict``, on the scores already computed.
    predicted_anomaly = scores > estimator.threshold_
    return scores, predicted_anomaly, time.perf_counter() - clock


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
