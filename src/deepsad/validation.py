"""Input validation shared by every estimator: one clear message per kind of bad input."""

from __future__ import annotations

import sys

import numpy as np
from scipy import sparse
from sklearn.utils.validation import validate_data

from deepsad.labels import ANOMALY, LABEL_VALUES, NORMAL, UNLABELED
from deepsad.user_warnings import warn


def as_numpy(X, name: str = "X"):
    """Turn a torch tensor into a NumPy array; leave NumPy arrays, DataFrames and lists alone."""
    # Where torch was never imported, X cannot be a tensor: this module never imports it.
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(X, torch.Tensor):
        if X.is_complex():
            raise TypeError(f"{name} must be real-valued, got a complex tensor")
        return X.detach().cpu().numpy()
    return X


def check_input(estimator, X, *, reset: bool, allowed_ndim=(2, 4)) -> np.ndarray:
    """Validate X as (n, d) tabular or (n, c, h, w) image data and return float32.

    With ``reset=True`` (fit) the input shape is remembered; with ``reset=False``
    (predict and scoring) X must have the shape seen at fit time.
    """
    X = as_numpy(X)
    expected = " or ".join(
        {2: "(n_samples, n_features)", 4: "(n_samples, channels, height, width)"}[d] for d in allowed_ndim
    )
    if sparse.issparse(X):
        raise TypeError("X is a sparse matrix, which is not supported; pass dense data (X.toarray())")
    if not hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
        raise TypeError(f"X must be an array-like of shape {expected}; got {type(X).__name__}")
    shape = X.shape if hasattr(X, "shape") else np.asarray(X).shape
    if len(shape) not in allowed_ndim:
        hint = (
            " Reshape your data: X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single sample."
            if len(shape) == 1
            else ""
        )
        raise ValueError(f"X must have shape {expected}; got an array of shape {tuple(shape)}.{hint}")
    X = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=np.float32,
        ensure_2d=True,
        allow_nd=True,
        ensure_all_finite=True,
    )
    if reset:
        estimator.input_shape_ = tuple(int(s) for s in X.shape[1:])
    elif tuple(X.shape[1:]) != tuple(estimator.input_shape_):
        raise ValueError(
            f"X has sample shape {tuple(X.shape[1:])}, but {type(estimator).__name__} was "
            f"fitted on samples of shape {tuple(estimator.input_shape_)}"
        )
    return np.ascontiguousarray(X)


def check_labels(y, n_samples: int) -> np.ndarray:
    """Return semi-supervised labels as an int8 array, all unlabeled when ``y`` is None.

    Labels follow the paper: +1 known normal, 0 unlabeled, -1 known anomaly.
    """
    if y is None:
        return np.zeros(n_samples, dtype=np.int8)
    y = np.asarray(as_numpy(y, "y"))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels; got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} labels but X has {n_samples} samples")
    if y.dtype.kind not in "biuf":
        raise ValueError(
            f"y must hold the numbers {NORMAL} (known normal), {UNLABELED} (unlabeled) or "
            f"{ANOMALY} (known anomaly); got dtype {y.dtype}"
        )
    values = np.unique(y)
    bad = [v for v in values.tolist() if v not in LABEL_VALUES]
    if bad:
        raise ValueError(
            f"y must contain only {NORMAL} (known normal), {UNLABELED} (unlabeled) or "
            f"{ANOMALY} (known anomaly); found {sorted(bad)[:5]}"
        )
    return y.astype(np.int8)


def check_training_data(estimator, X, y, *, uses_labels: bool, use_instead: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate training data and labels: X as for ``check_input`` (shape remembered), y as
    for ``check_labels``, and some data that is not a known anomaly.

    An unsupervised method (``uses_labels=False``) trains on the unlabeled and known-normal
    samples alike and leaves the known anomalies out, warning that it does so when labels
    were given (``use_instead`` names a method that learns from them); its labels come back
    as all unlabeled.
    """
    X = check_input(estimator, X, reset=True)
    labels = check_labels(y, X.shape[0])
    if not np.any(labels != ANOMALY):
        raise ValueError(
            "y labels every sample as a known anomaly (-1); at least one unlabeled (0) or "
            "known normal (+1) sample is needed to describe normal data"
        )
    if uses_labels:
        return X, labels
    if np.any(labels != UNLABELED):
        warn(
            f"{type(estimator).__name__} is unsupervised and ignores labels: the samples labeled "
            "-1 are left out of training and those labeled +1 are used as unlabeled data. "
            f"Use {use_instead} to learn from the labels.",
        )
    kept = X[labels != ANOMALY]
    return kept, np.zeros(kept.shape[0], dtype=labels.dtype)
