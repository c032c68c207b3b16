"""Estimators from method names (``deepsad.experiments.methods``) and parameters."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from deepsad import baselines, models
from deepsad.experiments.methods import method


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
    """Raise a ValueError naming the method and key if ``params`` are not its parameters."""
    unknown = sorted(set(params) - set(_accepted(name)))
    if unknown:
        raise ValueError(f"method {name!r} has no parameter(s) {unknown}; it accepts {sorted(_accepted(name))}")


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
