"""Preprocessing as in the paper, as scikit-learn transformers fitted on training data only."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class StandardMinMaxScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize with training statistics, then min-max scale to [0, 1] (the paper's tabular
    preprocessing). Constant features map to 0 instead of dividing by zero.

    Example
    -------
    >>> import numpy as np
    >>> scaler = StandardMinMaxScaler().fit(np.array([[0.0], [1.0], [3.0]]))
    >>> scaler.transform(np.array([[3.0]])).round(3).tolist()
    [[1.0]]
    """

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, reset=True)
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        std[std == 0] = 1.0
        standardized = (X - mean) / std
        minimum = standardized.min(axis=0)
        span = standardized.max(axis=0) - minimum
        span[span == 0] = 1.0
        self.mean_, self.scale_, self.min_, self.range_ = mean, std, minimum, span
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return ((X - self.mean_) / self.scale_ - self.min_) / self.range_


class ImageScaler(TransformerMixin, BaseEstimator):
    """Scale integer pixel values (0..max_value) to [0, 1]; stateless, as in the paper."""

    def __init__(self, max_value: float = 255.0):
        self.max_value = max_value

    def fit(self, X, y=None):
        if not self.max_value > 0:
            raise ValueError(f"max_value must be positive; got {self.max_value!r}")
        return self

    def transform(self, X):
        return np.asarray(X, dtype=np.float32) / np.float32(self.max_value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class GlobalContrastScaler(TransformerMixin, BaseEstimator):
    """Global contrast normalization of each image, then min-max scaling with training
    statistics: the image preprocessing of Deep SVDD (Ruff et al., ICML 2018).

    Each image x becomes (x − mean(x)) / mean(|x − mean(x)|) (the L1 scale, the paper's
    choice); ``fit`` records the smallest and largest normalized pixel value over the training
    images, and ``transform`` maps that range to [0, 1] (test images may fall slightly
    outside it). A constant image has no contrast and maps to the normalized value 0.

    Example
    -------
    >>> import numpy as np
    >>> images = np.array([[[[0, 255], [255, 255]]], [[[0, 0], [0, 255]]]], dtype=np.uint8)
    >>> scaler = GlobalContrastScaler().fit(images)
    >>> scaled = scaler.transform(images)
    >>> float(scaled.min()), float(scaled.max())
    (0.0, 1.0)
    """

    def fit(self, X, y=None):
        normalized = _global_contrast_normalized(X)
        self.min_ = float(normalized.min())
        span = float(normalized.max()) - self.min_
        self.range_ = span if span > 0 else 1.0
        return self

    def transform(self, X):
        check_is_fitted(self)
        return ((_global_contrast_normalized(X) - self.min_) / self.range_).astype(np.float32)


def _global_contrast_normalized(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(f"X must hold at least one image, shape (n, ...); got shape {X.shape}")
    axes = tuple(range(1, X.ndim))
    centered = X - X.mean(axis=axes, keepdims=True)
    scale = np.abs(centered).mean(axis=axes, keepdims=True)
    return np.divide(centered, scale, out=np.zeros_like(centered), where=scale > 0)
