"""deepsad: deep semi-supervised anomaly detection (Deep SAD, Deep SVDD, HSC and baselines).

The estimators are imported on first use, so ``import deepsad`` (and the command line, and
modules such as ``deepsad.experiments.report`` that need no model) do not load torch.

Example
-------
>>> import numpy as np
>>> from deepsad import DeepSAD, ANOMALY, UNLABELED
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(size=(300, 5)), rng.normal(3, 1, size=(10, 5))])
>>> y = np.r_[np.full(300, UNLABELED), np.full(5, ANOMALY), np.full(5, UNLABELED)]
>>> model = DeepSAD(epochs=5, ae_epochs=5, random_state=0).fit(X, y)
>>> model.predict(X).shape
(310,)
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from deepsad._version import __version__
from deepsad.labels import ANOMALY, NORMAL, UNLABELED

if TYPE_CHECKING:  # what the names below resolve to, for type checkers and IDEs
    from deepsad.decisions.saving import load  # noqa: F401
    from deepsad.models import (  # noqa: F401
        FCDD,
        HSC,
        SSDGM,
        Autoencoder,
        DeepSAD,
        DeepSVDD,
        PretrainingCache,
        SupervisedClassifier,
        fit_many,
    )

_LAZY = {
    "FCDD": ("deepsad.models", "FCDD"),
    "HSC": ("deepsad.models", "HSC"),
    "SSDGM": ("deepsad.models", "SSDGM"),
    "Autoencoder": ("deepsad.models", "Autoencoder"),
    "DeepSAD": ("deepsad.models", "DeepSAD"),
    "DeepSVDD": ("deepsad.models", "DeepSVDD"),
    "SupervisedClassifier": ("deepsad.models", "SupervisedClassifier"),
    "load": ("deepsad.decisions.saving", "load"),
    "fit_many": ("deepsad.models", "fit_many"),
    "PretrainingCache": ("deepsad.models", "PretrainingCache"),
}

__all__ = ["ANOMALY", "NORMAL", "UNLABELED", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")  # a submodule: deepsad.allocator, ...
    else:
        raise AttributeError(f"module 'deepsad' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
