"""Train/test splits of the experimental protocol.

Data sets with an official split (MNIST, Fashion-MNIST, CIFAR-10) keep it. The others (the
ODDS tables, digits) are split at random 60:40 per seed, keeping the class ratio (Deep SAD
paper, §4.3). The test set is the exact complement of the training set; the reference code
drew the two from separate random splits, so most "test" rows were training rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from deepsad.data.datasets import DatasetInfo, ImageDataset, TableDataset

__all__ = ["Split", "split", "stratified_split"]

RandomState = int | np.random.Generator | None


@dataclass(frozen=True, eq=False)
class Split:
    """The training pool (samples and class labels) a scenario is drawn from, and the test
    set; ``test_indices`` index the official test split, or the rows of a whole table."""

    X_pool: np.ndarray
    pool_classes: np.ndarray
    X_test: np.ndarray
    test_classes: np.ndarray
    test_indices: np.ndarray


def split(info: DatasetInfo, data: ImageDataset | TableDataset, seed: int, generator: np.random.Generator) -> Split:
    """The data set's split by its rule: the official one, or ``stratified_split`` drawn with
    the experiment's ``seed`` or ``generator`` (``DatasetInfo.split_draw``)."""
    if info.official_split:
        return Split(data.X_train, data.y_train, data.X_test, data.y_test, np.arange(len(data.X_test)))
    random_state = generator if info.split_draw == "generator" else seed
    train, test = stratified_split(data.X, data.y, random_state=random_state)
    return Split(data.X[train], data.y[train], data.X[test], data.y[test], test)


def stratified_split(
    X: np.ndarray, y: np.ndarray, test_size: float = 0.4, random_state: RandomState = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified random split into sorted ``(train_indices, test_indices)`` that partition the rows.

    ``y`` is stratified on (for ODDS, 1 = outlier), so both parts keep its class ratio.
    ``random_state`` is a seed or a ``numpy`` Generator; a seed gives the same split every time.
    Fit preprocessing on the training rows only and apply it to the test rows.

    Example
    -------
    >>> import numpy as np
    >>> X, y = np.zeros((100, 3)), np.r_[np.zeros(90), np.ones(10)]
    >>> train, test = stratified_split(X, y, random_state=0)
    >>> len(train), len(test), int(y[test].sum())
    (60, 40, 4)
    >>> from deepsad.preprocessing import StandardMinMaxScaler
    >>> scaler = StandardMinMaxScaler().fit(X[train])
    >>> X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d; got shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}")
    if isinstance(random_state, np.random.Generator):
        # sklearn takes an int seed; drawing one keeps a Generator's stream reproducible.
        random_state = int(random_state.integers(2**32))
    train, test = train_test_split(
        np.arange(len(y)), test_size=test_size, stratify=y, random_state=random_state
    )
    return np.sort(train), np.sort(test)
