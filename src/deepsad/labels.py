"""Semi-supervised label values with the meaning of the Deep SAD paper, and the conversion
from the other common convention.

deepsad's labels are +1 (known normal), 0 (unlabeled) and -1 (known anomaly). Many tools and
benchmarks (PyOD, ADBench, the ODDS files) write ground truth as 0/1 with 1 = anomaly instead;
given to deepsad unchanged, those 1s would read as "known normal" and the anomalies would be
pulled towards the center. ``from_binary`` converts such labels, and fitting warns
(``LabelConventionWarning``) when labels look like that convention.
"""

from __future__ import annotations

import numpy as np

NORMAL = 1
"""A sample an expert has confirmed as normal."""

UNLABELED = 0
"""A sample nobody has labeled (mostly normal, possibly polluted)."""

ANOMALY = -1
"""A sample an expert has confirmed as anomalous."""

LABEL_VALUES = (NORMAL, UNLABELED, ANOMALY)


class LabelConventionWarning(UserWarning):
    """Labels that mark known normals (+1) but no known anomaly (-1): the usual sign of 0/1
    labels with 1 = anomaly. Where known normals without known anomalies are meant, silence it
    with ``warnings.filterwarnings("ignore", category=deepsad.labels.LabelConventionWarning)``."""


def from_binary(y, *, anomaly=1, others: int = UNLABELED) -> np.ndarray:
    """deepsad labels from binary ones: ``anomaly`` → -1 (known anomaly), the rest → ``others``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Binary labels, e.g. 0/1 with 1 = anomaly (PyOD, ADBench, ODDS) or booleans with
        True = anomaly.
    anomaly : scalar, default=1
        The value of ``y`` that marks an anomaly (use ``True`` for booleans).
    others : {0, 1}, default=0
        What every other sample becomes: 0 (unlabeled; right when only the anomalies were
        checked) or +1 (known normal; right when every sample was checked by an expert).

    Returns
    -------
    ndarray of shape (n_samples,), dtype int8
        -1 where ``y == anomaly``, else ``others``.

    Examples
    --------
    >>> from deepsad.labels import from_binary
    >>> from_binary([0, 1, 0, 1]).tolist()
    [0, -1, 0, -1]
    >>> from_binary([False, True], anomaly=True, others=1).tolist()
    [1, -1]
    """
    if others not in (UNLABELED, NORMAL):
        raise ValueError(f"others must be {UNLABELED} (unlabeled) or {NORMAL} (known normal); got {others!r}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels; got shape {y.shape}")
    values = set(np.unique(y).tolist())
    if len(values) > 2:
        raise ValueError(f"y must be binary; found {len(values)} distinct values: {sorted(values, key=str)[:5]}")
    if len(values) == 2 and anomaly not in values:
        raise ValueError(f"no label in y equals anomaly={anomaly!r}; found {sorted(values, key=str)}")
    return np.where(y == anomaly, ANOMALY, others).astype(np.int8)
