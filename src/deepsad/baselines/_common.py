"""What the shallow baselines share: input and label handling, and the RBF kernel width."""

from __future__ import annotations

import numpy as np

from deepsad.parameters import POSITIVE_REAL, options
from deepsad.validation import check_training_data

GAMMA_CONSTRAINT = [options("scale"), POSITIVE_REAL]


def fit_input(estimator, X, y, *, uses_labels: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validate training data and labels (``deepsad.validation.check_training_data``; an
    unsupervised method leaves the known anomalies out); images (n, c, h, w) become vectors
    (n, c·h·w)."""
    X, labels = check_training_data(estimator, X, y, uses_labels=uses_labels, use_instead="SSAD")
    return as_vectors(X), labels


def as_vectors(X: np.ndarray) -> np.ndarray:
    """The shallow methods see an image as its raw pixel vector, as in the paper's baselines."""
    return X.reshape(X.shape[0], -1)


def resolve_gamma(gamma, X: np.ndarray) -> float:
    """The RBF width k(x, x') = exp(−γ‖x − x'‖²); "scale" is scikit-learn's 1 / (d · Var(X))."""
    if gamma != "scale":
        return float(gamma)
    variance = float(np.var(X, dtype=np.float64))
    return 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0
