"""Detectors by the names the runner and the configuration files use."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from deepsad.baselines import KDE, OCSVM, SSAD, Hybrid, IsolationForest
from deepsad.models import HSC, SSDGM, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier

METHODS: dict[str, Callable[[], object]] = {
    "deepsad": DeepSAD,
    "deepsvdd": DeepSVDD,
    "deepsvdd-soft": lambda: DeepSVDD(objective="soft-boundary"),
    "hsc": HSC,
    "ae": Autoencoder,
    "supervised": SupervisedClassifier,
    "ssdgm": SSDGM,
    "ocsvm": OCSVM,
    "iforest": IsolationForest,
    "kde": KDE,
    "ssad": SSAD,
    "hybrid-ocsvm": lambda: Hybrid(OCSVM(), autoencoder=Autoencoder()),
    "hybrid-iforest": lambda: Hybrid(IsolationForest(), autoencoder=Autoencoder()),
    "hybrid-kde": lambda: Hybrid(KDE(), autoencoder=Autoencoder()),
    "hybrid-ssad": lambda: Hybrid(SSAD(), autoencoder=Autoencoder()),
}
"""Factories of fresh estimators with default parameters. Hybrids take nested parameters in
scikit-learn's notation: ``detector__nu``, ``autoencoder__ae_epochs``."""


def accepted_params(method: str) -> dict:
    """The parameters of ``method`` with their defaults (nested ones included)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    return METHODS[method]().get_params(deep=True)


def check_method_params(method: str, params: Mapping) -> None:
    """Raise a ValueError naming the method and key if ``params`` are not its parameters."""
    accepted = accepted_params(method)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"method {method!r} has no parameter(s) {unknown}; it accepts {sorted(accepted)}"
        )


def make_estimator(method: str, params: Mapping, seed: int, device: str | None = None):
    """A fresh estimator with ``params``. Every ``random_state`` it has (nested ones of a
    hybrid included) defaults to ``seed``; every ``device`` is set to ``device`` when given."""
    check_method_params(method, params)
    estimator = METHODS[method]()
    settings = {}
    for name in estimator.get_params(deep=True):
        leaf = name.rsplit("__", 1)[-1]
        if leaf == "random_state":
            settings[name] = seed
        elif leaf == "device" and device is not None:
            settings[name] = device
    settings.update(params)
    if device is not None:
        settings.update({k: device for k in settings if k.rsplit("__", 1)[-1] == "device"})
    return estimator.set_params(**settings)
