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
