"""Fitting many deep detectors at once: ``fit_many``.

Seeds, labeled subsets, data splits and methods of one architecture and schedule are the axes
of every hyperparameter search, ensemble and paper grid. ``fit_many`` runs each estimator's own
fit pipeline (``DeepDetector``: validate → scale → build networks → stages → threshold) in
lockstep, and trains the stages that can be stacked (``deepsad.stacking.stack_key``) as one
model per group: the result is what one ``fit`` per estimator gives, up to floating-point
reduction order.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence

import torch
from torch import nn

from deepsad.models.deep import DeepDetector, FitRun, Stage
from deepsad.models.device import torch_threads
from deepsad.models.pretraining_cache import PretrainingCache
from deepsad.models.reconstruction import ReconstructionObjective
from deepsad.networks import has_convolutions
from deepsad.stacking import stack_key, train_stacked
from deepsad.training import TrainingDiverged
from deepsad.user_warnings import warn

STACK_OPTIONS = ("auto", True, False)



def fit_many(estimators: Sequence, Xs: Sequence, ys: Sequence | None = None, *, stack="auto",
             pretrained: PretrainingCache | None = None) -> list:
    """Fit each estimator on its own data, training compatible ones together.

    Parameters
    ----------
    estimators : sequence of estimators
        Unfitted detectors. Deep ones (``DeepSAD``, ``DeepSVDD``, ``HSC``, ``Autoencoder``,
        ``SupervisedClassifier``, ``SSDGM``) whose training stages match (network, input
        shape, number of samples, schedule, device and objective settings; a stage such as
        autoencoder pretraining can match across methods) are trained as one stacked model;
        every other estimator is fitted on its own.
    Xs : sequence of array-like
        The training data of each estimator.
    ys : sequence of array-like or None, default=None
        The semi-supervised labels of each estimator (+1 known normal, 0 unlabeled, -1 known
        anomaly; None: all unlabeled).
    stack : {"auto", True, False}, default="auto"
        Train matching stages together: "auto" does so on a GPU, and on the CPU for networks
        without convolutions (stacked convolutions are slower than separate ones on the CPU;
        docs/benchmarks.md); False fits one estimator after the other.
    pretrained : PretrainingCache or None, default=None
        Where pretrained autoencoders are kept: an autoencoder training found there (the
        same networks, initial weights, samples and schedule) is loaded instead of trained,
        and one trained here is stored. With ``pretrain_on="unlabeled"``, fits that differ
        only in their labels share one pretraining, and an ``Autoencoder`` on those samples
        loads it as its own training. The results are those of training it. Estimators
        with ``random_state=None`` or a custom network are trained every time and not stored
        (a later fit could not start from the same weights, or the key could not tell a
        changed network's code).

    Returns
    -------
    list
        The fitted estimators, in the order given.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad import DeepSAD, fit_many
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> models = fit_many([DeepSAD(epochs=3, ae_epochs=3, random_state=s) for s in range(3)], [X] * 3)
    >>> [m.anomaly_score(X[:2]).shape for m in models]
    [(2,), (2,), (2,)]
    """
    return _fit_many(estimators, Xs, ys, stack, pretrained, caught=None)


def fit_many_recording_warnings(estimators: Sequence, Xs: Sequence, ys: Sequence | None = None, *, stack="auto",
                                pretrained: PretrainingCache | None = None) -> tuple[list, list[list]]:
    """``fit_many``, with the warnings of each estimator's fit recorded for it instead of shown
    (a warning of a stage trained together is recorded for each estimator of the group).

    Returns
    -------
    estimators : list
        The fitted estimators, in the order given.
    caught : list of list of warnings.WarningMessage
        The warnings raised while fitting each estimator.
    """
    caught = [[] for _ in estimators]
    return _fit_many(estimators, Xs, ys, stack, pretrained, caught=caught), caught


def _fit_many(estimators, Xs, ys, stack, pretrained, caught: list[list] | None) -> list:
    if hasattr(Xs, "shape") or hasattr(ys, "shape"):  # one array (or tensor or DataFrame), not one per estimator
        raise TypeError("Xs and ys must be sequences with one data set per estimator; to fit every estimator on "
                        "the same X, pass [X] * len(estimators)")
    estimators = list(estimators)
    Xs = list(Xs)
    ys = [None] * len(estimators) if ys is None else list(ys)
    if not len(estimators) == len(Xs) == len(ys):
        raise ValueError(f"got {len(estimators)} estimators, {len(Xs)} data sets and {len(ys)} label sets; "
                         "give one of each per estimator")
    if stack not in STACK_OPTIONS:
        raise ValueError(f"stack must be one of {STACK_OPTIONS}; got {stack!r}")

    def recording(*indices):
        """Warnings raised inside are recorded for these estimators (when asked to record)."""
        if caught is None:
            return contextlib.nullcontext()
        return _Recording([caught[i] for i in indices])

    deep = [i for i, e in enumerate(estimators) if isinstance(e, DeepDetector)]
    for i, estimator in enumerate(estimators):
        if i not in deep:
            with recording(i):
                estimator.fit(Xs[i], ys[i])
    runs, started, finished = {}, [], set()
    try:
        for i in deep:
            started.append(i)
            with recording(i):
                runs[i] = estimators[i]._start_fit(Xs[i], ys[i])
        # One thread where every run would train on one alone (small networks on the CPU).
        threads = {run.threads for run in runs.values()}
        with torch_threads(threads.pop() if len(threads) == 1 else None):
            _train_in_lockstep(estimators, runs, stack, pretrained, recording, finished)
    except BaseException:
        # No estimator is left half refitted (a new scaler with an old model): those this call
        # started and did not finish are left unfitted.
        for i in started:
            if i not in finished:
                estimators[i]._forget_fit()
        raise
    return estimators


def _train_in_lockstep(estimators, runs: dict, stack, pretrained, recording, finished: set) -> None:
    """Each run's stages in turn, the matching ones trained together, then each run finished."""
    for step in range(max((len(run.stages) for run in runs.values()), default=0)):
        groups: dict[tuple, list] = {}
        to_store: dict[int, str] = {}
        followers: dict[int, str] = {}  # runs whose pretraining another run of this step trains
        for i, run in runs.items():
            if step >= len(run.stages):
                continue
            stage = run.stages[step]
            with recording(i):
                run.begin(stage)
            inputs, labels = run.data(stage)
            # Every autoencoder training: the other methods' pretraining, and the Autoencoder's
            # (and so a hybrid's) own, which is the same training where its samples are the same.
            if (pretrained is not None and isinstance(stage.objective, ReconstructionObjective)
                    and _reproducible(estimators[i])):
                cache_key = pretrained.key(stage.objective, inputs, stage.schedule, run.generator)
                log = pretrained.load(cache_key, stage.objective, run.generator)
                if log is not None:
                    _loaded(estimators[i], stage, log)
                    continue
                if cache_key in to_store.values():
                    followers[i] = cache_key
                    continue
                to_store[i] = cache_key
            key = stack_key(stage.objective, inputs, labels, stage.schedule)
            if key is None or not _stacking_wanted(stack, stage.objective, inputs.device):
                key = ("alone", i)
            groups.setdefault(key, []).append((i, run, stage))
        for group in groups.values():
            with recording(*(i for i, _, _ in group)):
                if len(group) == 1:
                    i, run, stage = group[0]
                    estimators[i]._train_stage(run, stage)
                else:
                    _train_together([(estimators[i], run, stage) for i, run, stage in group])
            for i, run, stage in group:
                if i in to_store:
                    log = {k: v for k, v in estimators[i].history_[stage.name].items() if k != "models_trained_together"}
                    pretrained.save(to_store[i], stage.objective, run.generator, log)
        for i, cache_key in followers.items():
            run = runs[i]
            stage = run.stages[step]
            with recording(i):
                log = pretrained.load(cache_key, stage.objective, run.generator)
                if log is None:  # not stored (e.g. a full disk): trained here after all
                    estimators[i]._train_stage(run, stage)
                else:
                    _loaded(estimators[i], stage, log)
    for i, run in runs.items():
        with recording(i):
            estimators[i]._finish_fit(run)
        finished.add(i)


class _Recording(warnings.catch_warnings):
    """Records the warnings raised inside into each of ``lists`` (under the filters in force)."""

    def __init__(self, lists: list[list]):
        super().__init__(record=True)
        self.lists = lists

    def __enter__(self):
        self.log = super().__enter__()
        return self.log

    def __exit__(self, *exc_info):
        super().__exit__(*exc_info)
        for target in self.lists:
            target.extend(self.log)


def _reproducible(estimator: DeepDetector) -> bool:
    """Whether a stored training could be found again: the estimator's networks are registered
    ones, which its parameters describe (a user's ``nn.Module`` may change its code between
    sessions without its key changing), and its ``random_state`` is not None (fresh randomness:
    initial weights no later fit starts from, so storing the training would only fill the
    folder; a seed or a seeded generator, which ``clone`` copies, gives the same weights again)."""
    return estimator.random_state is not None and not any(isinstance(getattr(estimator, name, None), nn.Module) for name in ("network", "decoder"))


def _loaded(estimator: DeepDetector, stage: Stage, log: dict) -> None:
    """Record a stage loaded from the cache: its log, with no time spent here."""
    estimator.history_[stage.name] = {**log, "seconds": [0.0] * len(log["seconds"]), "loaded": True}


def _stacking_wanted(stack, objective: nn.Module, device: torch.device) -> bool:
    if stack != "auto":
        return bool(stack)
    return device.type == "cuda" or not has_convolutions(objective)


def _train_together(group: list[tuple[DeepDetector, FitRun, Stage]]) -> None:
    """Train the group's stages as one stacked model; where stacking itself fails (a user's
    network with random operations, which vmap refuses), train them one by one instead."""
    estimators, runs, stages = zip(*group)
    data = [run.data(stage) for run, stage in zip(runs, stages)]
    generator_states = [run.generator.get_state() for run in runs]
    try:
        logs = train_stacked(
            [stage.objective for stage in stages],
            [inputs for inputs, _ in data],
            [labels for _, labels in data],
            stages[0].schedule,
            [run.generator for run in runs],
            description=stages[0].description,
            verbose=any(e.verbose for e in estimators),
        )
    except TrainingDiverged:
        raise
    except Exception as error:  # noqa: BLE001 - the modules are untouched until the end: train each alone
        warn(f"training {len(group)} models together failed ({type(error).__name__}: {error}); they are trained "
             "one by one instead")
        for estimator, run, stage, state in zip(estimators, runs, stages, generator_states):
            run.generator.set_state(state)
            estimator._train_stage(run, stage)
        return
    for estimator, stage, log in zip(estimators, stages, logs):
        estimator.history_[stage.name] = {**vars(log), "models_trained_together": len(group)}
