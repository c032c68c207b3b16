"""Decisions from anomaly scores: threshold strategies, conformal p-values with a guaranteed
false-alarm rate, false-discovery control, anomaly probabilities, and hyperparameter selection
from the training labels alone, for any deepsad detector.

The names are imported on first use, so the numpy-only parts (``deepsad.decisions.conformal``,
``strategies``, ``probability``) load without torch, as reports need.

Example
-------
>>> from deepsad.decisions import CalibratedDetector, parse_strategy
>>> parse_strategy("fpr:0.01")
FalseAlarmRate('fpr:0.01')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the names below resolve to, for type checkers and IDEs
    from deepsad.decisions.calibrated import CalibratedDetector, calibration_split  # noqa: F401
    from deepsad.decisions.conformal import benjamini_hochberg, conformal_p_values  # noqa: F401
    from deepsad.decisions.probability import PlattScaling  # noqa: F401
    from deepsad.decisions.selection import (  # noqa: F401
        AnomalyStratifiedKFold,
        choice_uncertainty,
        pu_auroc,
        pu_auroc_scorer,
        pu_balanced_accuracy,
        pu_balanced_accuracy_scorer,
    )
    from deepsad.decisions.strategies import (  # noqa: F401
        BestF1,
        CalibrationTooSmall,
        Contamination,
        FalseAlarmRate,
        MeanStd,
        Percentile,
        PrecisionAtRecall,
        Recall,
        SoftBoundary,
        Strategy,
        Threshold,
        conformal_quantile,
        parse_strategy,
    )

_MODULES = {
    "calibrated": ("CalibratedDetector", "calibration_split"),
    "conformal": ("benjamini_hochberg", "conformal_p_values"),
    "probability": ("PlattScaling",),
    "selection": ("AnomalyStratifiedKFold", "choice_uncertainty", "pu_auroc", "pu_auroc_scorer", "pu_balanced_accuracy",
                  "pu_balanced_accuracy_scorer"),
    "strategies": ("BestF1", "CalibrationTooSmall", "Contamination", "FalseAlarmRate", "MeanStd", "Percentile",
                   "PrecisionAtRecall", "Recall", "SoftBoundary", "Strategy", "Threshold", "conformal_quantile",
                   "parse_strategy"),
}  # fmt: skip
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    elif name in (*_MODULES, "saving"):
        value = importlib.import_module(f"{__name__}.{name}")  # a submodule: deepsad.decisions.selection, ...
    else:
        raise AttributeError(f"module 'deepsad.decisions' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
