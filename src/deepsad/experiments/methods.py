"""Detectors by the names the runner and the configuration files use."""

from __future__ import annotations

from collections.abc import Mapping

from deepsad.baselines import KDE, OCSVM, SSAD, IsolationForest
from deepsad.models import HSC, Autoencoder, DeepSAD, DeepSVDD

METHODS: dict[str, type] = {
    "deepsad": DeepSAD,
    "deepsvdd": DeepSVDD,
    "hsc": HSC,
    "ae": Autoencoder,
    "ocsvm": OCSVM,
    "iforest": IsolationForest,
    "kde": KDE,
    "ssad": SSAD,
}


def check_method_params(method: str, params: Mapping) -> None:
    """Raise a ValueError naming the method and key if ``params`` are not its parameters."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    accepted = METHODS[method]().get_params()
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"method {method!r} has no parameter(s) {unknown}; it accepts {sorted(accepted)}"
        )


def make_estimator(method: str, params: Mapping, seed: int, device: str | None = None):
    """A fresh estimator with ``params``; its ``random_state`` defaults to ``seed`` and its
    ``device`` (deep methods) to ``device`` when given."""
    check_method_params(method, params)
    estimator = METHODS[method]()
    accepted = estimator.get_params()
    settings = dict(params)
    if "random_state" in accepted:
        settings.setdefault("random_state", seed)
    if device is not None and "device" in accepted:
        settings["device"] = device
    return estimator.set_params(**settings)
