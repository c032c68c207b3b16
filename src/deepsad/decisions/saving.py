"""``load`` for every model file: an estimator's, or a ``CalibratedDetector``'s (its
detector's file with the calibration stored beside the detector's state, under the same
checksum; ``CalibratedDetector.save`` writes it). ``deepsad.load`` is this ``load``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import clone

from deepsad.decisions.calibrated import CALIBRATION, SCORES, CalibratedDetector
from deepsad.decisions.probability import PlattScaling
from deepsad.decisions.strategies import Threshold, parse_strategy
from deepsad.models.persistence import checked_values, finite_number, json_object, load_model_and_extension

ESTIMATE_NAMES = ("false_alarm_rate", "recall", "precision")


def load(path, *, network=None, decoder=None, device="auto"):
    """Read a model file written by ``save``: the estimator, or the ``CalibratedDetector``
    around it where the file holds a calibration.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    network, decoder : nn.Module or None, default=None
        A model fitted with a user's ``nn.Module`` needs a fresh instance of the same
        architecture (and of its decoder, for an ``Autoencoder``).
    device : str or torch.device, default="auto"
        Where to put the model: "auto" (CUDA when present), "cpu" or "cuda[:N]".

    Returns
    -------
    estimator
        The fitted estimator or ``CalibratedDetector``, scoring and deciding exactly as the
        saved one did.
    """
    detector, extension = load_model_and_extension(path, network=network, decoder=decoder, device=device)
    if extension is None:
        return detector
    name, entry, tensors = extension
    try:
        if name != CALIBRATION:
            raise ValueError(f"the model is wrapped in an unknown {name[:40]!r}; this deepsad reads {CALIBRATION!r}")
        return _calibrated(detector, entry, tensors)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def _calibrated(detector, entry: dict, tensors: dict) -> CalibratedDetector:
    """A fitted ``CalibratedDetector`` from a file's entry and tensors, each checked."""
    values = checked_values(entry, {"params": json_object, "threshold": finite_number, "estimates": json_object,
                                    "probability": json_object}, optional=("probability",))
    # Files written before probabilities existed have no "probability" parameter.
    params = checked_values(values["params"], {"threshold": _text, "calibration_size": _fraction,
                                               "probability": _flag, "random_state": _seed},
                            optional=("probability",))  # fmt: skip
    probability = params.get("probability", False)
    if probability != ("probability" in values):
        raise ValueError("the calibration's probability parameter and its fitted probability disagree")
    strategy = parse_strategy(params["threshold"])
    estimates = {}
    for name, triple in values["estimates"].items():
        if name not in ESTIMATE_NAMES or not isinstance(triple, list) or len(triple) != 3:
            raise ValueError(f"the calibration's estimate {name[:40]!r} is not one of {list(ESTIMATE_NAMES)} "
                             "with (estimate, low, high)")
        estimate, low, high = (finite_number(v) for v in triple)
        if not 0 <= low <= estimate <= high <= 1:
            raise ValueError(f"the calibration's estimate {name!r} must satisfy 0 ≤ low ≤ estimate ≤ high ≤ 1")
        estimates[name] = (estimate, low, high)
    if set(tensors) != {SCORES}:
        raise ValueError(f"the calibration holds the tensors {sorted(tensors)}; expected [{SCORES!r}]")
    scores = tensors[SCORES]
    if scores.dtype != torch.float64 or scores.ndim != 1 or scores.numel() == 0:
        raise ValueError(f"the calibration scores are {scores.dtype} of shape {tuple(scores.shape)}; "
                         "expected float64 of shape (n,) with n ≥ 1")
    scores = scores.numpy().copy()
    if not np.isfinite(scores).all() or np.any(np.diff(scores) < 0):
        raise ValueError("the calibration scores must be finite and sorted")
    model = CalibratedDetector(clone(detector), threshold=strategy.text, calibration_size=params["calibration_size"],
                               probability=probability, random_state=params["random_state"])
    model.probability_ = _platt(values["probability"]) if probability else None
    model.detector_ = detector
    model.calibration_scores_ = scores
    model.threshold_info_ = Threshold(values["threshold"], strategy.text, estimates)
    model.threshold_ = values["threshold"]
    return model


def _platt(values: dict) -> PlattScaling:
    checked = checked_values(values, {"slope": finite_number, "intercept": finite_number, "n_normal": _count,
                                      "n_anomalies": _count})
    return PlattScaling(**checked)


def _count(value) -> int:
    if type(value) is int and value >= 1:
        return value
    raise ValueError(f"must be a positive integer; got {value!r}")


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"must be true or false; got {value!r}")


def _text(value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text; got {type(value).__name__}")
    return value


def _fraction(value) -> float:
    value = finite_number(value)
    if not 0 < value < 1:
        raise ValueError(f"must be in (0, 1); got {value}")
    return value


def _seed(value):
    if value is None or (type(value) is int and value >= 0):
        return value
    raise ValueError("must be a non-negative integer or null")
