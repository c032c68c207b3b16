"""A user's own data files: fit a deep detector on one, save it, score another with it.

The training file carries the semi-supervised labels of the paper in a label column (tables)
or a label file (arrays): +1 known normal, 0 unlabeled, -1 known anomaly; an empty cell in
the label column means unlabeled, so an analyst only has to mark what they know.

Tables keep their column names: the saved model records them, and scoring a table whose
feature columns differ (renamed, reordered, missing) is refused instead of scored wrongly.
8-bit image arrays (uint8) are scaled to [0, 1] by the same rule at fit and at scoring time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from deepsad.data.readers import PathLike, read_user_data
from deepsad.experiments.methods import SAVABLE_METHODS
from deepsad.labels import ANOMALY, LABEL_VALUES, NORMAL, UNLABELED, from_binary
from deepsad.validation import PIXEL_MAX


@dataclass(frozen=True, eq=False)
class UserData:
    """Features (a DataFrame for tables, an array otherwise) and the raw labels, if any."""

    features: pd.DataFrame | np.ndarray
    labels: np.ndarray | None
    source: Path


def read_data_file(path: PathLike, *, label_column: str | None = None, labels_path: PathLike | None = None) -> UserData:
    """Read a CSV/TSV/Parquet table, a ``.npy``/``.npz`` array or a ``.mat`` file; uint8 arrays
    are scaled to [0, 1]."""
    features, labels = read_user_data(path, label_column=label_column, labels_path=labels_path, as_frame=True)
    if isinstance(features, np.ndarray) and features.dtype == np.uint8:
        features = features.astype(np.float32) / PIXEL_MAX
    return UserData(features, labels, Path(path))


def semi_supervised_labels(data: UserData, what: str, anomaly_label: str | None = None) -> np.ndarray | None:
    """The file's labels as +1/0/-1 int8 (empty cells: 0), or None when it has none. ``what``
    names where the labels came from in error messages.

    With ``anomaly_label``, the labels are binary in another convention (e.g. 0/1 with 1 =
    anomaly): cells equal to it become -1 (known anomaly), every other cell 0 (unlabeled)."""
    if data.labels is None:
        return None
    if anomaly_label is not None:
        return _binary_labels(data.labels, anomaly_label, what)
    if _are_booleans(pd.Series(data.labels)):
        raise ValueError(
            f"{what} holds booleans; deepsad's labels are +1 (known normal), 0 or empty (unlabeled) and -1 (known "
            "anomaly). If True marks the anomalies, give --anomaly-label True"
        )
    raw = pd.to_numeric(pd.Series(data.labels), errors="coerce")
    not_numbers = pd.Series(data.labels)[raw.isna() & pd.Series(data.labels).notna()]
    if len(not_numbers):
        raise ValueError(
            f"{what} must hold +1 (known normal), 0 or empty (unlabeled) or -1 (known anomaly); "
            f"found {sorted(map(str, not_numbers.unique()))[:5]}"
        )
    values = raw.fillna(0).to_numpy()
    bad = sorted(set(np.unique(values).tolist()) - set(LABEL_VALUES))
    if bad:
        raise ValueError(
            f"{what} must hold +1 (known normal), 0 or empty (unlabeled) or -1 (known anomaly); found {bad[:5]}"
        )
    return values.astype(np.int8)


def _are_booleans(cells: pd.Series) -> bool:
    """A boolean column, or one of the words true/false only (as a CSV reader may leave them)."""
    if pd.api.types.is_bool_dtype(cells):
        return True
    present = cells.dropna()
    return len(present) > 0 and set(present.astype(str).str.lower()) <= {"true", "false"}


def _binary_labels(raw: np.ndarray, anomaly_label: str, what: str) -> np.ndarray:
    cells = pd.Series(raw)
    distinct = sorted(map(str, cells.dropna().unique()))
    if len(distinct) > 2:
        raise ValueError(
            f"--anomaly-label expects binary labels (two values, e.g. 0/1), but {what} holds {len(distinct)} distinct "
            f"values {distinct[:5]}; labels already in deepsad's convention (+1, 0, -1) need no --anomaly-label"
        )
    numbers = pd.to_numeric(cells, errors="coerce")
    if _are_booleans(cells):
        if anomaly_label.lower() not in ("true", "false"):
            raise ValueError(f"{what} holds booleans; give --anomaly-label True or False")
        is_anomaly = cells.astype(str).str.lower() == anomaly_label.lower()
    elif numbers.notna().sum() == cells.notna().sum():  # a numeric column: compare as numbers
        try:
            is_anomaly = numbers == float(anomaly_label)
        except ValueError as error:
            raise ValueError(f"{what} holds numbers, but the anomaly label {anomaly_label!r} is not one") from error
    else:
        is_anomaly = cells.astype(str) == anomaly_label
    if numbers.notna().any() and bool((numbers == -1).any()):
        raise ValueError(
            f"{what} holds -1, deepsad's own mark of a known anomaly: labels already in deepsad's convention "
            "(+1, 0, -1) need no --anomaly-label"
        )
    if not is_anomaly.any():
        raise ValueError(f"no cell of {what} equals the anomaly label {anomaly_label!r}; found {distinct[:5]}")
    return from_binary(is_anomaly.to_numpy(), anomaly=True)


def fit_model(method: str, data: UserData, labels: np.ndarray | None, params: dict, seed: int, device: str | None,
              threshold: str | None = None, calibration_size: float = 0.2, probability: bool = False):
    """A fresh ``method`` estimator with ``params``, seeded with ``seed``, fitted on the data;
    with a ``threshold`` strategy, a ``CalibratedDetector`` around it that sets aside
    ``calibration_size`` of the data to choose the threshold on (and, with ``probability``,
    to calibrate anomaly probabilities on). It keeps its own scaling
    (``scaler="auto"`` for tables), so the saved model scores raw data of the same kind."""
    from deepsad.decisions import CalibratedDetector, CalibrationTooSmall, SoftBoundary, parse_strategy
    from deepsad.experiments.estimators import make_estimator

    if method not in SAVABLE_METHODS:
        raise ValueError(f"method must be one of {list(SAVABLE_METHODS)} (those that can be saved); got {method!r}")
    check_flag_params(params)
    estimator = make_estimator(method, params, seed, device)
    if threshold is None:
        return estimator.fit(data.features, labels)
    # what the calibration needs is checked before the training, in the command's own words
    strategy = parse_strategy(threshold)
    if isinstance(strategy, SoftBoundary):
        try:
            strategy.check_detector(estimator)
        except ValueError as error:
            raise ValueError(f"--threshold {threshold} is the sphere a soft-boundary Deep SVDD learns, and --method "
                             f"{method}{' with these --param' if params else ''} learns none: use --method "
                             "deepsvdd-soft, or a threshold of the scores such as --threshold fpr:ALPHA") from error
    if "contamination" in params:
        raise ValueError(f"--param contamination sets the threshold of a model fitted without --threshold; with "
                         f"--threshold {threshold} the strategy sets it. Drop one (contamination:F is a strategy too)")
    n_anomalies = 0 if labels is None else int((labels == ANOMALY).sum())
    needs = ((strategy.needs_anomalies, f"--threshold {threshold}", "or use --threshold fpr:ALPHA, which needs none"),
             (probability, "--probability", "or leave --probability out (p-values need no labeled anomalies)"))
    for needed, what, otherwise in needs:
        if needed and n_anomalies < 2:
            raise ValueError(f"{what} needs at least 2 labeled anomalies (one to train on, one to calibrate on); the "
                             f"labels hold {n_anomalies}. Give them with --label-column or --labels (and "
                             f"--anomaly-label), {otherwise}")
    calibrated = CalibratedDetector(estimator, threshold=strategy.text, calibration_size=calibration_size,
                                    probability=probability, random_state=seed)
    try:
        return calibrated.fit(data.features, labels)
    except CalibrationTooSmall as error:
        raise ValueError(f"{error}. Change --calibration-size (now {calibration_size:g})") from error


FLAG_PARAMS = {"random_state": "--seed", "device": "--device"}
"""Estimator parameters that a flag of the command sets."""


def check_flag_params(params: dict) -> None:
    """Refuse ``--param`` keys that a flag sets, naming the flag."""
    for key, flag in FLAG_PARAMS.items():
        if key in params:
            raise ValueError(f"--param {key}=... is what {flag} sets; use {flag}")


def score_data(model, data: UserData, prevalence: float | None = None) -> pd.DataFrame:
    """One row per sample, in the file's order: the anomaly score (higher = more anomalous)
    and the prediction at the model's threshold (+1 normal, -1 anomaly); for a calibrated
    model the conformal p-value and, given ``prevalence``, the anomaly probability."""
    if prevalence is not None and getattr(model, "probability_", None) is None:
        raise ValueError("--prevalence gives anomaly probabilities of a model fitted with --threshold and "
                         "--probability; this model has none")
    scores = model.anomaly_score(data.features)
    # The rule of ``predict`` (anomalous above the threshold), applied to the scores already
    # computed instead of running the network a second time.
    prediction = np.where(scores <= model.threshold_, NORMAL, ANOMALY)
    table = pd.DataFrame({"anomaly_score": scores, "prediction": prediction})
    if hasattr(model, "calibration_scores_"):  # a CalibratedDetector
        from deepsad.decisions.conformal import conformal_p_values

        table["p_value"] = conformal_p_values(model.calibration_scores_, scores)
        if prevalence is not None:
            table["anomaly_probability"] = model.probability_.probability(scores, prevalence)
    if isinstance(data.features, pd.DataFrame):
        table.index = data.features.index
    return table


def label_summary(labels: np.ndarray | None, n_samples: int) -> str:
    """'n samples: a known anomalies, b known normal, c unlabeled'."""
    if labels is None:
        return f"{n_samples} samples, all unlabeled"
    return (f"{n_samples} samples: {int((labels == ANOMALY).sum())} known anomalies, "
            f"{int((labels == NORMAL).sum())} known normal, {int((labels == UNLABELED).sum())} unlabeled")
