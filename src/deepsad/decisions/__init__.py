"""Decisions from anomaly scores: threshold strategies, conformal p-values with a guaranteed
false-alarm rate, false-discovery control, and hyperparameter selection from the training
labels alone, for any deepsad detector.

Example
-------
>>> from deepsad.decisions import CalibratedDetector, parse_strategy
>>> parse_strategy("fpr:0.01")
FalseAlarmRate('fpr:0.01')
"""

from deepsad.decisions.calibrated import CalibratedDetector, calibration_split
from deepsad.decisions.conformal import benjamini_hochberg, conformal_p_values
from deepsad.decisions.probability import PlattScaling
from deepsad.decisions.selection import AnomalyStratifiedKFold, choice_uncertainty, pu_auroc, pu_auroc_scorer
from deepsad.decisions.strategies import (
    BestF1,
    Contamination,
    FalseAlarmRate,
    MeanStd,
    Percentile,
    Recall,
    Strategy,
    Threshold,
    conformal_quantile,
    parse_strategy,
)

__all__ = [
    "AnomalyStratifiedKFold", "choice_uncertainty", "pu_auroc", "pu_auroc_scorer",
    "BestF1", "CalibratedDetector", "PlattScaling", "Contamination", "FalseAlarmRate", "MeanStd", "Percentile", "Recall",
    "Strategy", "Threshold", "benjamini_hochberg", "calibration_split", "conformal_p_values", "conformal_quantile", "parse_strategy",
]  # fmt: skip
