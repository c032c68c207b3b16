"""Estimators from method names (``deepsad.experiments.methods``) and parameters."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from deepsad import baselines, models
from deepsad.experiments.methods import method
from deepsad.models.device import device_named
from deepsad.parameters import check_parameters


def fresh_estimator(name: str):
    """A new estimator of method ``name`` with its default and fixed parameters."""
    info = method(name)
    if info.detector is not None:
        return baselines.Hybrid(getattr(baselines, info.detector)(), autoencoder=models.Autoencoder())
    module = models if info.deep else baselines
    return getattr(module, info.estimator)(**info.fixed)


@functools.cache
def _accepted(name: str) -> dict:
    return fresh_estimator(name).get_params(deep=True)


def accepted_params(name: str) -> dict:
    """The parameters of method ``name`` with their defaults (a hybrid's nested ones included)."""
    return dict(_accepted(name))


def check_params(name: str, params: Mapping) -> None:
    """Raise a ValueError naming the method and the key if ``params`` are not parameters of
    method ``name`` or break their constraints (``epochs="ten"``), so that a configuration
    fails when it is expanded rather than when its experiment runs."""
    unknown = sorted(set(params) - set(_accepted(name)))
    if unknown:
        raise ValueError(f"method {name!r} has no parameter(s) {unknown}; it accepts {sorted(_accepted(name))}")
    try:
        _check_values(fresh_estimator(name).set_params(**params))
    except ValueError as error:  # scikit-learn's InvalidParameterError names the key and value
        raise ValueError(f"method {name!r}: {error}{_number_as_text_hint(params)}") from None


def _number_as_text_hint(params: Mapping) -> str:
    """YAML 1.1 (PyYAML) reads ``1e-4`` as text, a common surprise in configuration files."""
    texts = [key for key, value in params.items() if isinstance(value, str) and _is_number(value)]
    if not texts:
        return ""
    return (f" ({texts} hold numbers written as text; in YAML write exponents with a decimal point, "
            "e.g. 1.0e-4, since 1e-4 is read as text)")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_values(estimator) -> None:
    """``check_parameters`` on ``estimator`` and the estimators among its parameters (a
    hybrid's detector and autoencoder), which its own check does not look into."""
    check_parameters(estimator)
    device = estimator.get_params(deep=False).get("device", "auto")
    if device != "auto":  # named here; whether it is present is the running machine's question
        device_named(device)
    for value in estimator.get_params(deep=False).values():
        if hasattr(value, "_parameter_constraints"):
            _check_values(value)


def make_estimator(name: str, params: Mapping, seed: int, device: str | None = None):
    """A fresh estimator of method ``name`` for one experiment.

    Every ``random_state`` it has (a hybrid's nested ones included) defaults to ``seed``;
    ``params`` override that. Every ``device`` is set to ``device`` when given.
    """
    check_params(name, params)
    estimator = fresh_estimator(name)
    leaves = {key: key.rsplit("__", 1)[-1] for key in estimator.get_params(deep=True)}
    settings = {key: seed for key, leaf in leaves.items() if leaf == "random_state"}
    settings.update(params)
    if device is not None:
        settings.update({key: device for key, leaf in leaves.items() if leaf == "device"})
    return estimator.set_params(**settings)
