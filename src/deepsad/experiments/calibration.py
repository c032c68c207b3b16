"""A sweep's time estimate for the experiments no store has timed: one short run per kind,
scaled to the kind's schedule.

A deep method's fit time is a fixed part (building the networks, placing the center, the
threshold) plus a part proportional to each stage's epochs (every epoch passes over the same
data). Two short runs of a kind, with each stage cut to ``SHORT_EPOCHS[0]`` and to
``SHORT_EPOCHS[1]`` epochs, measure both on the real data and network: the difference of their
stage times gives the seconds per epoch (without the first epoch's warm-up), the rest the fixed
part. The estimate of an experiment is the data loading, the fixed part, those per-epoch seconds
times the experiment's own epochs, and the test scoring. Pretraining that the sweep shares
between the runs of a pack (``pretrain_on = "unlabeled"``) is counted once per pack; models
that a pack trains stacked are counted as if trained one by one (an upper estimate there).
Methods whose time does not scale with epochs (the shallow baselines, the hybrids, selection
protocols) are not calibrated: their estimate comes from stored timings only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence

from deepsad.experiments.estimators import accepted_params
from deepsad.experiments.methods import METHODS
from deepsad.experiments.packing import pretrains_alike
from deepsad.experiments.spec import Experiment

SHORT_EPOCHS = (1, 3)
"""Epochs per stage of a kind's two calibration runs."""
EPOCH_PARAMETERS = ("epochs", "ae_epochs")
MILESTONE_PARAMETERS = ("lr_milestones", "ae_lr_milestones")
SCHEDULE_PARAMETERS = frozenset({*EPOCH_PARAMETERS, *MILESTONE_PARAMETERS})


@dataclasses.dataclass(frozen=True)
class Calibration:
    """What the short runs of a kind measured, in seconds: data loading, the fixed part of the
    fit and test scoring per run, and per epoch of each training stage (``"pretrain"``,
    ``"train"``)."""

    data: float
    fixed: float
    test: float
    per_epoch: dict[str, float]

    def seconds(self, experiment: Experiment, pretraining: bool = True) -> float:
        """The estimated seconds of ``experiment`` (of this calibration's kind); without its
        pretraining when ``pretraining`` is False (shared with another run of its pack)."""
        epochs = stage_epochs(experiment)
        stages = sum(self.per_epoch.get(stage, 0.0) * count for stage, count in epochs.items()
                     if pretraining or stage != "pretrain")
        return self.data + self.fixed + stages + self.test


def calibrated(experiment: Experiment) -> bool:
    """Whether the experiment's time is calibrated: a deep method fitted as given."""
    method = METHODS[experiment.method]
    return method.deep and method.detector is None and experiment.selection is None


def calibration_key(experiment: Experiment) -> str:
    """What an experiment's time per epoch depends on: data set, method, preprocessing and the
    parameters other than the schedule's length."""
    params = {k: v for k, v in experiment.params.items() if k not in SCHEDULE_PARAMETERS}
    fields = {"dataset": experiment.dataset, "method": experiment.method, "params": params,
              "preprocessing": experiment.preprocessing}
    return json.dumps(fields, sort_keys=True, default=str)


def stage_epochs(experiment: Experiment) -> dict[str, int]:
    """The epochs of each training stage the experiment's estimator runs with its parameters:
    ``"pretrain"`` (the autoencoder's, where the method pretrains) and ``"train"``."""
    params = {**accepted_params(experiment.method), **experiment.params}
    if "epochs" not in params:  # the autoencoder detector: its one stage is its ae_epochs
        return {"train": int(params["ae_epochs"])}
    stages = {"train": int(params["epochs"])}
    if "ae_epochs" in params and params.get("pretrain", True):
        stages["pretrain"] = int(params["ae_epochs"])
    return stages


def short_run(experiment: Experiment, epochs: int) -> Experiment:
    """The experiment with each training stage cut to ``epochs`` epochs."""
    accepted = accepted_params(experiment.method)
    short = {name: epochs for name in EPOCH_PARAMETERS if name in accepted}
    milestones = {name: () for name in MILESTONE_PARAMETERS if name in accepted}
    return dataclasses.replace(experiment, params={**experiment.params, **short, **milestones})


def calibrate(record_of: Callable[[Experiment], dict], experiment: Experiment) -> Calibration:
    """Run ``short_run(experiment, epochs)`` for each of ``SHORT_EPOCHS`` with ``record_of``
    (which returns the run's record as a dict: its ``seconds`` and ``history``) and read the
    seconds per epoch of each stage and the fixed part of the fit."""
    fewer, more = SHORT_EPOCHS
    short, long = (record_of(short_run(experiment, epochs)) for epochs in SHORT_EPOCHS)
    stages_short, stages_long = _stage_seconds(short), _stage_seconds(long)
    per_epoch = {stage: max(0.0, (stages_long[stage] - stages_short.get(stage, 0.0)) / (more - fewer))
                 for stage in stages_long}
    seconds = long["seconds"]
    # the fit's time beyond its epochs' (the first epochs' warm-up included)
    fixed = max(0.0, float(seconds.get("train", 0.0)) - sum(rate * more for rate in per_epoch.values()))
    return Calibration(data=float(seconds.get("data", 0.0)), fixed=fixed, test=float(seconds.get("test", 0.0)),
                       per_epoch=per_epoch)


def _stage_seconds(record: dict) -> dict[str, float]:
    """The seconds of each training stage a run's record holds (loaded stages left out)."""
    return {stage: float(log["seconds"]) for stage, log in record["history"].items()
            if isinstance(log, dict) and log.get("loss") and not log.get("loaded")}


def estimate_packs(packs: Sequence[Sequence[Experiment]], calibrations: dict[str, Calibration],
                   workers: int) -> tuple[float, int]:
    """The wall time of ``packs`` on ``workers`` processes from ``calibrations`` (by
    ``calibration_key``), and how many experiments have none. A pack whose runs pretrain alike
    pretrains once."""
    total, unknown = 0.0, 0
    for experiments in packs:
        shared = len(experiments) > 1 and all(pretrains_alike(e) for e in experiments)
        for position, experiment in enumerate(experiments):
            calibration = calibrations.get(calibration_key(experiment))
            if calibration is None:
                unknown += 1
                continue
            total += calibration.seconds(experiment, pretraining=not shared or position == 0)
    return total / max(workers, 1), unknown
