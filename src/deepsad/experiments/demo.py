"""The default job: Deep SVDD vs Deep SAD on scikit-learn's bundled digits (no download).

Each digit in turn is the normal class and the other nine are anomalies. It runs as every
experiment does (``deepsad.experiments.runner``): a stratified 60:40 split of all digits per
seed, the scenario builder drawing the training set (the normal class's training samples,
unlabeled, plus labeled anomalies from the other nine classes making up
``ratio_known_anomaly`` of it; Deep SVDD leaves those out), and AUROC on the whole test split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from deepsad.data.datasets import dataset_info
from deepsad.experiments.runner import run_experiment
from deepsad.experiments.spec import Experiment

DATASET = "digits"
DEMO_METHODS = {"deepsvdd": "Deep SVDD", "deepsad": "Deep SAD"}
"""The demo's method names and how it prints them."""


@dataclass
class DemoResult:
    method: str
    normal_class: int
    seed: int
    auroc: float
    seconds: float


def demo_experiments(
    normal_classes: Iterable[int] = range(10), seeds: Iterable[int] = (0,), ratio_known_anomaly: float = 0.05,
    estimator_params: dict | None = None,
) -> list[Experiment]:
    """The demo's experiments: per seed, normal class and method (Deep SVDD, then Deep SAD)."""
    n_classes = len(dataset_info(DATASET).classes)
    return [
        Experiment(
            dataset=DATASET, method=method, seed=seed, normal_class=normal_class,
            known_anomaly_classes=tuple(c for c in range(n_classes) if c != normal_class),
            ratio_known_anomaly=ratio_known_anomaly, params=dict(estimator_params or {}),
        )
        for seed in seeds
        for normal_class in normal_classes
        for method in DEMO_METHODS
    ]  # fmt: skip


def run_demo(
    normal_classes: Iterable[int] = range(10),
    seeds: Iterable[int] = (0,),
    ratio_known_anomaly: float = 0.05,
    device: str = "auto",
    estimator_params: dict | None = None,
    on_result: Callable[[DemoResult], None] | None = None,
) -> list[DemoResult]:
    """Fit Deep SVDD and Deep SAD for every normal class and seed; return their test AUROCs."""
    results = []
    for experiment in demo_experiments(normal_classes, seeds, ratio_known_anomaly, estimator_params):
        record, _ = run_experiment(experiment, device=device)
        seconds = record.seconds["train"] + record.seconds["test"]
        result = DemoResult(DEMO_METHODS[experiment.method], experiment.normal_class, experiment.seed,
                            record.metrics["auroc"], seconds)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
