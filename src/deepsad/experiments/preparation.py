"""Preparing an experiment's estimator before it is fitted: its parameters as given, or chosen
by a selection protocol, and a hybrid's autoencoder trained once and shared across a sweep.

Whatever the route, the runner receives a ``Prepared``: the estimator to fit on the task's
training set, the test samples its metrics cover, and what the preparation adds to the record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from deepsad.experiments.estimators import make_estimator
from deepsad.experiments.methods import METHODS
from deepsad.experiments.selection import select, train_hybrid_autoencoder
from deepsad.experiments.shared_autoencoders import SharedAutoencoders, with_fitted_autoencoder
from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import Task

REUSED = "reused (trained by an earlier run)"
TRAINED = "trained"


@dataclass(frozen=True, eq=False)
class Prepared:
    """An estimator ready to fit. ``report_mask`` marks the test samples its metrics must be
    computed on (None: all); ``selection`` is the protocol's record entry; ``autoencoder``
    whether a hybrid's autoencoder came from the shared folder; ``seconds`` the time spent."""

    estimator: object
    report_mask: np.ndarray | None = None
    selection: dict | None = None
    autoencoder: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def prepare_estimator(
    experiment: Experiment, task: Task, device: str | None = None, autoencoders: SharedAutoencoders | None = None
) -> Prepared:
    """The experiment's estimator: with ``experiment.selection``, the protocol's choice (its
    seconds include a hybrid's autoencoder training, which the final fit reuses); otherwise
    the method with ``experiment.params``, a hybrid's autoencoder taken from ``autoencoders``
    when given (trained there by the first run that needs it)."""
    shares_autoencoder = autoencoders is not None and METHODS[experiment.method].detector is not None
    reused_before = autoencoders.reused if autoencoders is not None else 0
    started = time.perf_counter()
    if experiment.selection is not None:
        selection = select(experiment, task, device, autoencoders)
        return Prepared(
            selection.estimator,
            report_mask=selection.report_mask,
            selection=selection.record(),
            autoencoder=_autoencoder_note(autoencoders, reused_before) if shares_autoencoder else None,
            seconds={"selection": time.perf_counter() - started},
        )
    estimator = make_estimator(experiment.method, experiment.params, experiment.seed, device)
    if not shares_autoencoder:
        return Prepared(estimator)
    autoencoder = train_hybrid_autoencoder(estimator, task.X_train, task.y_train, autoencoders)
    with_fitted_autoencoder(estimator, autoencoder)
    return Prepared(
        estimator,
        autoencoder=_autoencoder_note(autoencoders, reused_before),
        seconds={"autoencoder": time.perf_counter() - started},
    )


def _autoencoder_note(autoencoders: SharedAutoencoders, reused_before: int) -> str:
    return REUSED if autoencoders.reused > reused_before else TRAINED
