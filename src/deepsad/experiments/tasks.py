"""Turn an experiment's definition into training data with semi-supervised labels and a
labelled test set, following the paper's protocol.

The data set's descriptor (``deepsad.data.datasets``) decides everything that depends on the
data: the split (official, or stratified 60:40 drawn with the seed), the classes (one normal
and the rest anomalous, or an outlier benchmark's inliers and outliers), and the
preprocessing. The scenario builder draws the training set from the training pool.

Every input is scaled exactly once, by one owner. Images are scaled here for every method, by
their pixel range to [0, 1] (or, with ``preprocessing="gcn"``, contrast-normalized and min-max
scaled with the training set's range). Tables are standardized and min-max scaled with
training statistics by whoever fits on them: an estimator whose scaler is on (the deep ones
and a hybrid's autoencoder, ``scaler="auto"`` by default; ``Method.scaler_parameter``) gets
the raw table and fits its scaler on the samples it trains on, exactly as on a user's data, so
a saved model scores raw data; for the others (the shallow baselines, or ``scaler=None`` in
``params``) the table is scaled here with the statistics of the whole training set.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sklearn.preprocessing import FunctionTransformer

from deepsad.data.datasets import PIXELS, DatasetInfo, dataset_info, load_dataset
from deepsad.data.scenario import Scenario, choose_known_classes, make_scenario
from deepsad.data.splits import split
from deepsad.experiments.methods import METHODS
from deepsad.experiments.spec import Experiment
from deepsad.preprocessing import GlobalContrastScaler, ImageScaler, StandardMinMaxScaler


@dataclass(frozen=True, eq=False)
class Task:
    """What a method is fitted and evaluated on.

    ``y_train`` holds semi-supervised labels (+1/0/−1); ``test_truth`` is 1 for anomalies.
    ``test_indices`` index the dataset's official test split, or the rows of a whole table.
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
    return load_dataset(name, root=root, download=download)


def build_task(experiment: Experiment, root: str | None = None, download: bool = False) -> Task:
    """Load the data (from ``root``, see ``deepsad.data.downloads.data_root``; missing files
    are downloaded only with ``download``) and draw the experiment's split and scenario with
    its seed."""
    info = dataset_info(experiment.dataset)
    rng = np.random.default_rng(experiment.seed)
    parts = split(info, cached_dataset(experiment.dataset, root, download), experiment.seed, rng)
    if info.one_vs_rest:
        normal = [experiment.normal_class]
        anomalies = [c for c in range(len(info.classes)) if c != experiment.normal_class]
    else:
        normal, anomalies = [0], [1]
    known = _known_classes(experiment, info, anomalies, rng)
    # An outlier benchmark's one anomaly class is where any labeled anomaly comes from.
    scenario = make_scenario(
        parts.pool_classes, normal, anomalies, known if info.one_vs_rest else anomalies,
        ratio_known_normal=experiment.ratio_known_normal,
        ratio_known_anomaly=experiment.ratio_known_anomaly,
        ratio_pollution=experiment.ratio_pollution,
        random_state=rng,
    )  # fmt: skip
    X_train = parts.X_pool[scenario.indices]
    scaler = _scaler(info, experiment).fit(X_train)
    X_train, X_test = scaler.transform(X_train).astype(np.float32), scaler.transform(parts.X_test).astype(np.float32)
    if METHODS[experiment.method].images_only and X_train.ndim == 2:
        # A set kept as a table of pixels (digits) goes to an image-only method as images.
        X_train, X_test = (part.reshape(len(part), *info.image_shape) for part in (X_train, X_test))
    return Task(
        X_train=X_train,
        y_train=np.asarray(scenario.semi_supervised_labels, dtype=np.int64),
        X_test=X_test,
        test_truth=np.isin(parts.test_classes, anomalies).astype(np.int64),
        test_indices=parts.test_indices,
        scenario=scenario,
        known_anomaly_classes=known,
    )


def _known_classes(experiment: Experiment, info: DatasetInfo, anomalies: list[int], rng) -> tuple[int, ...]:
    """The classes the labeled anomalies come from (none without labeled anomalies)."""
    if not info.one_vs_rest:
        return tuple(anomalies) if experiment.ratio_known_anomaly > 0 else ()
    if experiment.known_anomaly_classes is not None:
        return experiment.known_anomaly_classes
    if experiment.ratio_known_anomaly == 0:
        return ()
    return tuple(int(c) for c in choose_known_classes(anomalies, experiment.n_known_classes, rng))


def _scaler(info: DatasetInfo, experiment: Experiment):
    if METHODS[experiment.method].images_only and experiment.preprocessing != "gcn":
        # An image-only method takes a set kept as a table of pixels (digits) as images, with
        # pixels in [0, 1] as for every image set; it has no table scaler of its own.
        return ImageScaler(info.pixel_max)
    if info.preprocessing != PIXELS:
        return FunctionTransformer() if _estimator_scales_tables(experiment) else StandardMinMaxScaler()
    if experiment.preprocessing == "gcn":
        return GlobalContrastScaler()
    return ImageScaler(info.pixel_max)


def _estimator_scales_tables(experiment: Experiment) -> bool:
    parameter = METHODS[experiment.method].scaler_parameter
    return parameter is not None and experiment.params.get(parameter, "auto") == "auto"
