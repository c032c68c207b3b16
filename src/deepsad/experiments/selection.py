"""Choosing the shallow baselines' kernel parameters, by one of two protocols.

- ``"paper"``: the protocol of Ruff et al. (ICLR 2020, §4), which tunes γ (and ν) on
  a random 10% of the *test* set, an advantage the paper grants the shallow methods on
  purpose. Unlike the reference code, which then scores the whole test set, samples it
  tuned on included, the metrics are reported on the other 90% only.
- ``"honest"``: uses the training set only. With labeled anomalies, cross-validation within
  the training set; without them, the median heuristic for γ.

Every grid point is fitted the same way the final estimator is, on the same data; a hybrid's
autoencoder is trained once and only its detector is tuned on the codes, and the final hybrid
keeps that autoencoder.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from deepsad.experiments.estimators import make_estimator
from deepsad.experiments.methods import METHODS, TUNABLE_METHODS
from deepsad.experiments.shared_autoencoders import SharedAutoencoders, with_fitted_autoencoder
from deepsad.experiments.spec import SELECTION_PROTOCOLS
from deepsad.labels import ANOMALY

if TYPE_CHECKING:
    from deepsad.experiments.spec import Experiment
    from deepsad.experiments.tasks import Task

PAPER_TUNING_FRACTION = 0.1
HONEST_FOLDS = 3
MEDIAN_HEURISTIC_SAMPLES = 1000
"""Pairwise distances of at most this many training samples (about 500 000 pairs) give the
median to well under 1% and cost a fraction of a second even for images."""


@dataclass(frozen=True, eq=False)
class Selection:
    """The outcome of a protocol.

    ``chosen`` are the selected parameters under the method's names (``detector__gamma`` for a
    hybrid); ``estimator`` is the method's estimator with them, ready to fit on the training
    set (a hybrid's keeps the autoencoder trained for the selection); ``report_mask`` marks
    the test samples the metrics must be computed on (None: all of them); ``tuning_auroc`` is
    the AUROC the chosen point reached during the selection (None for a heuristic).
    """

    protocol: str
    chosen: dict
    grid_size: int
    how: str
    estimator: object
    report_mask: np.ndarray | None
    tuning_auroc: float | None

    def record(self) -> dict:
        """The JSON-ready description stored with the experiment's record."""
        return {
            "protocol": self.protocol,
            "chosen": dict(self.chosen),
            "grid_size": self.grid_size,
            "evaluated_on": "the whole test set" if self.report_mask is None else "90% of the test set",
            "how": self.how,
            "tuning_auroc": self.tuning_auroc,
        }


def grid_points(name: str) -> list[dict]:
    """Every point of method ``name``'s grid (``Method.grid``), γ outermost, each axis ascending."""
    if name not in TUNABLE_METHODS:
        raise ValueError(f"method {name!r} has no parameters to select; selection applies to {list(TUNABLE_METHODS)}")
    grid = METHODS[name].grid
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def select(
    experiment: Experiment,
    task: Task,
    device: str | None = None,
    autoencoders: SharedAutoencoders | None = None,
) -> Selection:
    """Run the experiment's protocol on its task (``experiment.selection`` must be set); a
    hybrid's autoencoder comes from ``autoencoders`` when given."""
    if experiment.selection == "paper":
        return paper_protocol(
            experiment.method, experiment.params, task.X_train, task.y_train, task.X_test, task.test_truth,
            seed=experiment.seed, device=device, autoencoders=autoencoders,
        )  # fmt: skip
    if experiment.selection == "honest":
        return honest_protocol(
            experiment.method, experiment.params, task.X_train, task.y_train, seed=experiment.seed, device=device,
            autoencoders=autoencoders,
        )  # fmt: skip
    raise ValueError(f"selection must be one of {list(SELECTION_PROTOCOLS)}; got {experiment.selection!r}")


def paper_protocol(
    method: str,
    params: Mapping,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    test_truth: np.ndarray,
    *,
    seed: int,
    device: str | None = None,
    autoencoders: SharedAutoencoders | None = None,
) -> Selection:
    """Fit every grid point on the training set and keep the one with the highest AUROC on a
    random 10% of the test set (``paper_tuning_mask``); the metrics belong on the other 90%
    (``Selection.report_mask``). Ties go to the first point in ``grid_points`` order (smallest γ,
    then smallest ν), as with the reference code's strict comparison."""
    grid = grid_points(method)
    tuning_mask = paper_tuning_mask(test_truth, seed)
    tuning = _Tuning.prepare(method, params, seed, device, X_train, y_train, autoencoders)
    train_features = tuning.features(X_train)
    tuning_features = tuning.features(X_test[tuning_mask])
    tuning_truth = test_truth[tuning_mask]

    def auroc(point: dict) -> float:
        detector = tuning.candidate(point).fit(train_features, y_train)
        return float(roc_auc_score(tuning_truth, detector.anomaly_score(tuning_features)))

    chosen, best = _best(grid, auroc)
    n_tuning = int(tuning_mask.sum())
    how = (
        f"highest AUROC of {len(grid)} grid points on a random {PAPER_TUNING_FRACTION:.0%} of the test set "
        f"({n_tuning} samples, {int(tuning_truth.sum())} anomalies, seed {seed}); metrics on the other "
        f"{len(test_truth) - n_tuning} test samples"
    )
    return Selection("paper", chosen, len(grid), how, tuning.final(chosen), ~tuning_mask, best)


def paper_tuning_mask(test_truth: np.ndarray, seed: int) -> np.ndarray:
    """The test samples the paper's protocol tunes on: a random int(10% · n) of them, drawn with
    ``seed`` and redrawn, as in the reference code, until both the drawn part and the rest hold
    an anomaly and a normal sample (so an AUROC exists on both).

    Refused with a ValueError when that is impossible: fewer than two anomalies or two normal
    samples, or a test set too small for its 10% to hold one of each (under 20 samples).
    """
    truth = np.asarray(test_truth).astype(bool)
    n_tuning = int(PAPER_TUNING_FRACTION * len(truth))
    n_anomalies = int(truth.sum())
    n_normal = len(truth) - n_anomalies
    if min(n_anomalies, n_normal) < 2 or n_tuning < 2:
        raise ValueError(
            f"the paper's protocol needs a test set whose random {PAPER_TUNING_FRACTION:.0%} and remaining "
            f"{1 - PAPER_TUNING_FRACTION:.0%} both hold an anomaly and a normal sample; this one has "
            f"{n_anomalies} anomalies and {n_normal} normal samples ({n_tuning} would be drawn)"
        )
    rng = np.random.default_rng(seed)
    # Under these conditions a draw succeeds with probability at least 0.13 (the worst case: two
    # anomalies, or two normal samples, among 29), so the loop ends after a few draws.
    while True:
        mask = np.zeros(len(truth), dtype=bool)
        mask[rng.permutation(len(truth))[:n_tuning]] = True
        if all(len(np.unique(truth[part])) == 2 for part in (mask, ~mask)):
            return mask


def honest_protocol(
    method: str,
    params: Mapping,
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    seed: int,
    device: str | None = None,
    autoencoders: SharedAutoencoders | None = None,
) -> Selection:
    """Choose the parameters from the training set alone.

    With at least two labeled anomalies (y = −1): k-fold cross-validation over the grid, k =
    min(3, number of labeled anomalies), folds shuffled with ``seed`` and stratified on whether
    a sample is a labeled anomaly, so every held-out fold has one. Each grid point is fitted on
    the other folds (with their labels) and scored by the AUROC of the held-out labeled
    anomalies against the held-out rest (unlabeled and labeled normal); the mean over folds
    decides, ties to the first point. The labeled anomalies come from the known anomaly classes
    only, so this rewards detecting those; that is all the training set can tell. For a hybrid
    the autoencoder is trained once on the whole training set (as its final fit does), so the
    held-out unlabeled samples were seen by it, not by the detector being tuned.

    Otherwise: γ by ``median_heuristic_gamma`` of the samples the detector is fitted on (for
    a hybrid, their codes), every other parameter (ν) at the method's value.
    """
    grid = grid_points(method)
    tuning = _Tuning.prepare(method, params, seed, device, X_train, y_train, autoencoders)
    features = tuning.features(X_train)
    labeled_anomaly = np.asarray(y_train) == ANOMALY
    n_labeled = int(labeled_anomaly.sum())
    if n_labeled < 2:
        gamma_name = next(name for name in grid[0] if name.rsplit("__", 1)[-1] == "gamma")
        gamma = median_heuristic_gamma(features[~labeled_anomaly], seed)
        chosen = {gamma_name: gamma}
        how = (
            f"median heuristic (fewer than 2 labeled anomalies to validate on): gamma = 1 / median squared "
            f"distance between {min(int((~labeled_anomaly).sum()), MEDIAN_HEURISTIC_SAMPLES)} training samples; "
            "other parameters at the method's values"
        )
        return Selection("honest", chosen, 1, how, tuning.final(chosen), None, None)

    n_folds = min(HONEST_FOLDS, n_labeled)
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(features, labeled_anomaly))

    def mean_auroc(point: dict) -> float:
        aurocs = []
        for fitted_on, held_out in folds:
            detector = tuning.candidate(point).fit(features[fitted_on], y_train[fitted_on])
            scores = detector.anomaly_score(features[held_out])
            aurocs.append(roc_auc_score(labeled_anomaly[held_out], scores))
        return float(np.mean(aurocs))

    chosen, best = _best(grid, mean_auroc)
    how = (
        f"highest mean AUROC of {len(grid)} grid points in {n_folds}-fold cross-validation within the training "
        f"set (held-out labeled anomalies against the held-out rest; {n_labeled} labeled anomalies, seed {seed})"
    )
    return Selection("honest", chosen, len(grid), how, tuning.final(chosen), None, best)


def train_hybrid_autoencoder(hybrid, X_train, y_train, autoencoders: SharedAutoencoders | None = None):
    """The hybrid's autoencoder trained as ``Hybrid.fit`` trains it (unsupervised, on the samples
    not labeled anomalous), or the same one loaded from ``autoencoders``."""
    X = X_train[np.asarray(y_train) != ANOMALY]
    return clone(hybrid.autoencoder).fit(X) if autoencoders is None else autoencoders.fitted(hybrid.autoencoder, X)


def median_heuristic_gamma(X: np.ndarray, seed: int, max_samples: int = MEDIAN_HEURISTIC_SAMPLES) -> float:
    """γ = 1 / median ‖x − x'‖² over the pairs of (a seeded subsample of at most
    ``max_samples``) rows of X: the RBF kernel is then e^-1 at the median pairwise distance,
    neither nearly constant (γ too small) nor nearly the identity (γ too large)."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if len(X) > max_samples:
        X = X[np.random.default_rng(seed).choice(len(X), max_samples, replace=False)]
    if len(X) < 2:
        raise ValueError(f"the median heuristic needs at least 2 samples; got {len(X)}")
    median = float(np.median(pdist(X, "sqeuclidean")))
    if median == 0.0:
        raise ValueError("the median heuristic is undefined: most training samples are identical")
    return 1.0 / median


def _best(grid: list[dict], score: Callable[[dict], float]) -> tuple[dict, float]:
    """The first grid point with the highest score, and that score."""
    scores = [score(point) for point in grid]
    best = int(np.argmax(scores))
    return grid[best], scores[best]


@dataclass(frozen=True, eq=False)
class _Tuning:
    """What a grid point is fitted as: the method's own estimator on the inputs or, for a
    hybrid, only its detector on the codes of an autoencoder trained once."""

    method: str
    params: Mapping
    seed: int
    device: str | None
    autoencoder: object | None

    @classmethod
    def prepare(cls, method_name, params, seed, device, X_train, y_train, autoencoders=None) -> _Tuning:
        estimator = make_estimator(method_name, params, seed, device)
        autoencoder = None
        if METHODS[method_name].detector is not None:
            autoencoder = train_hybrid_autoencoder(estimator, X_train, y_train, autoencoders)
        return cls(method_name, params, seed, device, autoencoder)

    def features(self, X: np.ndarray) -> np.ndarray:
        return X if self.autoencoder is None else self.autoencoder.encode(X)

    def candidate(self, point: dict):
        """A fresh estimator for ``point``, to fit on ``features`` of the training data."""
        estimator = make_estimator(self.method, {**self.params, **point}, self.seed, self.device)
        return estimator if self.autoencoder is None else estimator.detector

    def final(self, chosen: dict):
        """The method's estimator with the chosen parameters (a hybrid's with this autoencoder)."""
        estimator = make_estimator(self.method, {**self.params, **chosen}, self.seed, self.device)
        if self.autoencoder is not None:
            with_fitted_autoencoder(estimator, self.autoencoder)
        return estimator
