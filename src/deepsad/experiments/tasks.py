"""Turn an experiment's definition into training data with semi-supervised labels and a
labelled test set, following the paper's protocol (MISSION §5).

- Class datasets (digits, MNIST, Fashion-MNIST, CIFAR-10), one-vs-rest: the training pool is
  the official training split (for digits, a seeded stratified 60:40 split); the scenario
  builder draws the training set from it; the test set is the whole test split, anomalous
  where the class is not the normal one. Images are scaled to [0, 1], or with
  ``preprocessing="gcn"`` contrast-normalized and min-max scaled with the training set's range.
- ODDS: a seeded stratified 60:40 split; the scenario is drawn from the training rows (normal
  class 0, anomaly class 1); the test set is the exact complement. Features are standardized
  and min-max scaled with statistics of the training set the model sees, nothing else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from deepsad.data.datasets import ImageDataset, load_dataset
from deepsad.data.scenario import Scenario, choose_known_classes, make_scenario
from deepsad.data.splits import odds_split
from deepsad.experiments.spec import Experiment
from deepsad.preprocessing import GlobalContrastScaler, ImageScaler, StandardMinMaxScaler

ODDS_NORMAL, ODDS_OUTLIER = 0, 1


@dataclass(frozen=True, eq=False)
class Task:
    """What a method is fitted and evaluated on.

    ``y_train`` holds semi-supervised labels (+1/0/−1); ``test_truth`` is 1 for anomalies.
    ``test_indices`` index the dataset's test split (class datasets) or its rows (ODDS).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    test_truth: np.ndarray
    test_indices: np.ndarray
    scenario: Scenario
    known_anomaly_classes: tuple[int, ...]


@functools.lru_cache(maxsize=2)
def cached_dataset(name: str, root: str | None, download: bool):
    """Datasets are read once per process (a sweep worker runs many experiments on one)."""
    if name == "digits":
        digits = load_digits()
        return digits.data.astype(np.float32), digits.target.astype(np.int64)
    return load_dataset(name, root=root, download=download)


def _digits_split(seed: int):
    X, classes = cached_dataset("digits", None, False)
    train, test = train_test_split(np.arange(len(X)), test_size=0.4, stratify=classes, random_state=seed)
    return X[np.sort(train)], classes[np.sort(train)], X[np.sort(test)], classes[np.sort(test)], np.sort(test)


def build_task(experiment: Experiment, root: str | None = None, download: bool = True) -> Task:
    """Load the data (from ``root``, see ``deepsad.data.downloads.data_root``) and draw the
    experiment's scenario with its seed."""
    rng = np.random.default_rng(experiment.seed)
    if experiment.is_odds:
        return _odds_task(experiment, cached_dataset(experiment.dataset, root, download), rng)
    if experiment.dataset == "digits":
        X_pool, pool_classes, X_test, test_classes, test_indices = _digits_split(experiment.seed)
        scaler = StandardMinMaxScaler()
    else:
        data: ImageDataset = cached_dataset(experiment.dataset, root, download)
        X_pool, pool_classes, X_test, test_classes = data.X_train, data.y_train, data.X_test, data.y_test
        test_indices = np.arange(len(X_test))
        scaler = GlobalContrastScaler() if experiment.preprocessing == "gcn" else ImageScaler()
    normal = experiment.normal_class
    anomaly_classes = [c for c in range(10) if c != normal]
    known = _known_classes(experiment, anomaly_classes, rng)
    scenario = _scenario(experiment, pool_classes, [normal], anomaly_classes, known, rng)
    X_train = X_pool[scenario.indices]
    scaler.fit(X_train)
    return Task(
        X_train=scaler.transform(X_train).astype(np.float32),
        y_train=np.asarray(scenario.semi_supervised_labels, dtype=np.int64),
        X_test=scaler.transform(X_test).astype(np.float32),
        test_truth=(test_classes != normal).astype(np.int64),
        test_indices=test_indices,
        scenario=scenario,
        known_anomaly_classes=known,
    )


def _known_classes(experiment: Experiment, anomaly_classes: list[int], rng) -> tuple[int, ...]:
    if experiment.known_anomaly_classes is not None:
        return experiment.known_anomaly_classes
    if experiment.ratio_known_anomaly == 0:
        return ()
    return tuple(int(c) for c in choose_known_classes(anomaly_classes, experiment.n_known_classes, rng))


def _scenario(experiment: Experiment, labels, normal, anomalies, known, rng) -> Scenario:
    return make_scenario(
        labels, normal, anomalies, known,
        ratio_known_normal=experiment.ratio_known_normal,
        ratio_known_anomaly=experiment.ratio_known_anomaly,
        ratio_pollution=experiment.ratio_pollution,
        random_state=rng,
    )


def _odds_task(experiment: Experiment, data, rng) -> Task:
    train_rows, test_rows = odds_split(data.X, data.y, random_state=rng)
    labels = data.y[train_rows]
    scenario = _scenario(experiment, labels, [ODDS_NORMAL], [ODDS_OUTLIER], [ODDS_OUTLIER], rng)
    X_train = data.X[train_rows[scenario.indices]]
    scaler = StandardMinMaxScaler().fit(X_train)
    return Task(
        X_train=scaler.transform(X_train).astype(np.float32),
        y_train=np.asarray(scenario.semi_supervised_labels, dtype=np.int64),
        X_test=scaler.transform(data.X[test_rows]).astype(np.float32),
        test_truth=(data.y[test_rows] == ODDS_OUTLIER).astype(np.int64),
        test_indices=test_rows,
        scenario=scenario,
        known_anomaly_classes=(ODDS_OUTLIER,) if experiment.ratio_known_anomaly > 0 else (),
    )
