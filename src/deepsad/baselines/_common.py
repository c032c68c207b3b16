"""What the shallow baselines share: input and label handling, and the RBF kernel width."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from deepsad.validation import check_has_normal_data, check_input, check_labels

gamma_constraint = [StrOptions({"scale"}), Interval(Real, 0, None, closed="neither")]


def fit_input(estimator, X, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate training data and labels; images (n, c, h, w) become vectors (n, c·h·w)."""
    X = check_input(estimator, X, reset=True)
    labels = check_labels(y, X.shape[0])
    check_has_normal_data(labels)
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
