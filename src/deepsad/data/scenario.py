"""The semi-supervised training scenarios of the Deep SAD paper (Ruff et al., ICLR 2020, §4).

A scenario turns a labelled pool (e.g. the MNIST training set with its digit labels) into a
training set with semi-supervised labels: some normals known, a few anomalies known, and the
unlabeled rest polluted with unknown anomalies at a given rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deepsad.labels import ANOMALY, NORMAL, UNLABELED

RandomState = int | np.random.Generator | None


@dataclass(frozen=True, eq=False)
class Scenario:
    """A training set drawn from a pool: indices into the pool and their labels.

    ``semi_supervised_labels`` holds the labels a model sees (+1 known normal, 0 unlabeled,
    -1 known anomaly); ``is_anomaly`` the ground truth (1 for every anomaly-class sample, known
    or pollution). Both are aligned with ``indices``, which are sorted. The arrays are read-only.

    Example
    -------
    >>> import numpy as np
    >>> labels = np.repeat(np.arange(10), 500)
    >>> s = make_scenario(labels, normal_classes=[0], anomaly_classes=range(1, 10),
    ...                   known_anomaly_classes=[1], ratio_known_normal=0.0,
    ...                   ratio_known_anomaly=0.05, ratio_pollution=0.1, random_state=0)
    >>> s.n_known_normal, s.n_unlabeled_normal, s.n_known_anomaly, s.n_pollution
    (0, 500, 29, 56)
    >>> len(s.indices), int((s.semi_supervised_labels == -1).sum()), int(s.is_anomaly.sum())
    (585, 29, 85)
    """

    indices: np.ndarray
    semi_supervised_labels: np.ndarray
    is_anomaly: np.ndarray
    n_known_normal: int
    n_unlabeled_normal: int
    n_known_anomaly: int
    n_pollution: int


def solve_counts(
    n_normal: int, ratio_known_normal: float, ratio_known_anomaly: float, ratio_pollution: float
) -> tuple[int, int, int, int]:
    """Counts (known normal, unlabeled normal, pollution, known anomaly) that use all
    ``n_normal`` normal samples and meet the three ratios.

    The ratios are defined as in the paper's reference code: known normals and known anomalies
    are fractions of the whole training set, pollution a fraction of the unlabeled data.
    Each count is the exact solution rounded to the nearest integer (the unlabeled normals take
    the remainder so that all normals are used), so every count is within half a sample of the
    exact one, and each ratio, taken of the realised totals, holds within 0.5 + ratio samples
    (within one sample for any ratio up to 0.5). Rounding, not truncation as in the reference
    code: truncating turns a float solution of 24.999... into 24 and can miss by a whole sample.
    """
    rkn, rka, rp = ratio_known_normal, ratio_known_anomaly, ratio_pollution
    system = np.array(
        [
            [1.0, 1.0, 0.0, 0.0],  # all normal samples are used
            [1.0 - rkn, -rkn, -rkn, -rkn],  # known normals = rkn * total
            [-rka, -rka, -rka, 1.0 - rka],  # known anomalies = rka * total
            [0.0, -rp, 1.0 - rp, 0.0],  # pollution = rp * unlabeled
        ]
    )
    exact = np.linalg.solve(system, np.array([n_normal, 0.0, 0.0, 0.0]))
    n_known_normal, _, n_pollution, n_known_anomaly = (int(np.rint(x)) for x in exact)
    return n_known_normal, n_normal - n_known_normal, n_pollution, n_known_anomaly


def make_scenario(
    labels,
    normal_classes: Sequence,
    anomaly_classes: Sequence,
    known_anomaly_classes: Sequence,
    ratio_known_normal: float,
    ratio_known_anomaly: float,
    ratio_pollution: float,
    random_state: RandomState = None,
) -> Scenario:
    """Draw a semi-supervised training set from a pool with class ``labels``.

    All samples of ``normal_classes`` are used; ``ratio_known_normal`` of the training set are
    labeled normal. Known anomalies (``ratio_known_anomaly`` = γl of the training set) come from
    ``known_anomaly_classes`` only; pollution (``ratio_pollution`` = γp of the unlabeled data)
    from all ``anomaly_classes``, never re-using a known anomaly. Classes of the pool that are in
    neither list are left out. ``random_state`` seeds a local ``numpy`` Generator (or is one).
    See :class:`Scenario` for an example.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class labels; got shape {labels.shape}")
    normal_classes, anomaly_classes, known_anomaly_classes = (
        list(normal_classes),
        list(anomaly_classes),
        list(known_anomaly_classes),
    )
    for name, value in [
        ("ratio_known_normal", ratio_known_normal),
        ("ratio_known_anomaly", ratio_known_anomaly),
        ("ratio_pollution", ratio_pollution),
    ]:
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    if ratio_known_normal + ratio_known_anomaly >= 1.0:
        raise ValueError(
            "ratio_known_normal + ratio_known_anomaly must be < 1 to leave room for unlabeled "
            f"data; got {ratio_known_normal!r} + {ratio_known_anomaly!r}"
        )
    if not normal_classes:
        raise ValueError("normal_classes must name at least one class")
    overlap = [c for c in normal_classes if c in anomaly_classes]
    if overlap:
        raise ValueError(f"normal_classes and anomaly_classes overlap in {overlap}")
    not_anomaly = [c for c in known_anomaly_classes if c not in anomaly_classes]
    if not_anomaly:
        raise ValueError(
            f"known_anomaly_classes must be a subset of anomaly_classes; {not_anomaly} are not"
        )
    present = set(np.unique(labels).tolist())
    for name, classes in (
        ("normal_classes", normal_classes),
        ("anomaly_classes", anomaly_classes),
    ):
        absent = [c for c in classes if c not in present]
        if absent:
            raise ValueError(f"{name} {absent} do not occur in labels")

    normal_pool = np.flatnonzero(np.isin(labels, normal_classes))
    anomaly_pool = np.flatnonzero(np.isin(labels, anomaly_classes))
    known_pool = np.flatnonzero(np.isin(labels, known_anomaly_classes))
    n_known_normal, n_unlabeled_normal, n_pollution, n_known_anomaly = solve_counts(
        len(normal_pool), ratio_known_normal, ratio_known_anomaly, ratio_pollution
    )
    if n_known_anomaly > len(known_pool):
        raise ValueError(
            f"ratio_known_anomaly={ratio_known_anomaly!r} requests {n_known_anomaly} known "
            f"anomalies, but known_anomaly_classes {known_anomaly_classes} have only "
            f"{len(known_pool)} samples available"
        )
    rng = np.random.default_rng(random_state)
    known_normal = rng.permutation(normal_pool)[:n_known_normal]
    known_anomaly = rng.choice(known_pool, size=n_known_anomaly, replace=False)
    # Pollution is drawn from what the known anomalies left over, so no sample is both
    # (the reference code draws the two independently and can pick one sample twice).
    pollution_pool = np.setdiff1d(anomaly_pool, known_anomaly, assume_unique=True)
    if n_pollution > len(pollution_pool):
        raise ValueError(
            f"ratio_pollution={ratio_pollution!r} requests {n_pollution} pollution samples, but "
            f"anomaly_classes have only {len(pollution_pool)} samples available after drawing "
            f"{n_known_anomaly} known anomalies"
        )
    pollution = rng.choice(pollution_pool, size=n_pollution, replace=False)

    indices = np.sort(np.concatenate([normal_pool, known_anomaly, pollution])).astype(np.int64)
    semi_supervised_labels = np.full(len(indices), UNLABELED, dtype=np.int8)
    semi_supervised_labels[np.isin(indices, known_normal)] = NORMAL
    semi_supervised_labels[np.isin(indices, known_anomaly)] = ANOMALY
    is_anomaly = np.isin(labels[indices], anomaly_classes).astype(np.int8)
    for array in (indices, semi_supervised_labels, is_anomaly):
        array.flags.writeable = False
    return Scenario(
        indices=indices,
        semi_supervised_labels=semi_supervised_labels,
        is_anomaly=is_anomaly,
        n_known_normal=n_known_normal,
        n_unlabeled_normal=n_unlabeled_normal,
        n_known_anomaly=n_known_anomaly,
        n_pollution=n_pollution,
    )


def choose_known_classes(
    anomaly_classes: Sequence, n_known: int, random_state: RandomState = None
) -> tuple:
    """Draw ``n_known`` of the ``anomaly_classes`` at random, as in scenario (iii) of the paper.

    The chosen classes keep their order in ``anomaly_classes``.

    >>> choose_known_classes(range(1, 10), 3, random_state=0)
    (5, 6, 8)
    """
    anomaly_classes = list(anomaly_classes)
    if len(set(anomaly_classes)) != len(anomaly_classes):
        raise ValueError(f"anomaly_classes must not repeat a class; got {anomaly_classes}")
    if isinstance(n_known, bool) or not isinstance(n_known, int | np.integer):
        raise TypeError(f"n_known must be an integer; got {n_known!r}")
    if not 0 <= n_known <= len(anomaly_classes):
        raise ValueError(
            f"n_known must be between 0 and the {len(anomaly_classes)} anomaly_classes; "
            f"got {n_known}"
        )
    rng = np.random.default_rng(random_state)
    chosen = np.sort(rng.choice(len(anomaly_classes), size=n_known, replace=False))
    return tuple(anomaly_classes[i] for i in chosen)
