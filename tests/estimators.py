"""Every detector of the package, as the contract suite and scikit-learn's checks see it: a
small, fast, seeded instance, the labels it learns from and the kind of data it takes (table
rows, or images for a detector that explains pixels). Covering a new estimator means adding
one line to ``CASES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from deepsad import FCDD, HSC, SSDGM, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier
from deepsad.baselines import KDE, OCSVM, SSAD, Hybrid, IsolationForest

DEEP = dict(epochs=3, ae_epochs=3, lr=1e-4, ae_lr=1e-4, batch_size=32, ae_batch_size=32, random_state=0)
"""Short runs; one schedule for every deep estimator (Deep SAD's "auto" learning rate is another
on tables), so tests can compare them."""
AUTOENCODER = dict(ae_epochs=3, ae_batch_size=32, random_state=0)

UNSUPERVISED = "unsupervised"
"""Ignores labels: leaves the known anomalies out of training, with a warning."""
SEMI_SUPERVISED = "semi-supervised"
"""Learns from unlabeled data and from labels of either kind."""
NEEDS_ANOMALIES = "needs labeled anomalies"
"""Learns the labeled anomalies against the rest; refuses labels without any."""


@dataclass(frozen=True)
class Samples:
    """Normal samples and far anomalies of one shape: table rows (a standard normal blob and
    a cluster around 5 in every feature) or images (dim noise, and the same noise with a bright square)."""

    shape: tuple[int, ...]

    @property
    def are_images(self) -> bool:
        return len(self.shape) == 3

    def normal(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.are_images:
            return np.clip(rng.normal(0.4, 0.05, size=(n, *self.shape)), 0, 1).astype(np.float32)
        return rng.normal(size=(n, *self.shape)).astype(np.float32)

    def anomalous(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if not self.are_images:
            return rng.normal(5.0, 1.0, size=(n, *self.shape)).astype(np.float32)
        images = self.normal(rng, n)
        side = self.shape[1] // 4
        for image, (top, left) in zip(images, rng.integers(0, self.shape[1] - side + 1, size=(n, 2))):
            image[:, top : top + side, left : left + side] = 0.95
        return images


TABLE = Samples((6,))
IMAGES = Samples((1, 16, 16))


@dataclass(frozen=True)
class Case:
    make: Callable[..., object]
    labels: str
    invalid_parameters: list[tuple[str, object]] = field(default_factory=list)
    """(parameter, value) pairs that ``fit`` must refuse, naming the parameter."""
    seed_parameter: str | None = "random_state"
    """The parameter whose value changes a randomised fit (None: the fit is deterministic)."""
    samples: Samples = TABLE
    """The data it takes; image-only detectors refuse table rows."""


def _deep(cls, **fixed):
    return lambda **kw: cls(**{**DEEP, **fixed, **kw})


CASES: dict[str, Case] = {
    "DeepSAD": Case(_deep(DeepSAD), SEMI_SUPERVISED, [("eta", -1.0), ("network", "resnet"), ("epochs", -1),
                                                        ("batch_size", 1)]),
    "DeepSVDD": Case(_deep(DeepSVDD), UNSUPERVISED, [("objective", "hard"), ("lr", 0.0)]),
    "DeepSVDD-soft": Case(_deep(DeepSVDD, objective="soft-boundary", nu=0.2), UNSUPERVISED, [("nu", 1.5)]),
    "HSC": Case(_deep(HSC), SEMI_SUPERVISED, [("h", "huber"), ("eps", 0.0)]),
    "Autoencoder": Case(lambda **kw: Autoencoder(**{**AUTOENCODER, **kw}), UNSUPERVISED,
                        [("ae_batch_size", 1), ("rep_dim", 0)]),
    "SupervisedClassifier": Case(_deep(SupervisedClassifier, lr=1e-3), NEEDS_ANOMALIES,
                                 [("anomaly_weight", 0.0), ("pretrain", "yes")]),
    "SSDGM": Case(lambda **kw: SSDGM(**{"epochs": 3, "lr": 1e-3, "batch_size": 32, "random_state": 0, **kw}),
                  NEEDS_ANOMALIES, [("alpha", -1.0), ("rep_dim", 0), ("batch_size", 1)]),
    "OCSVM": Case(lambda **kw: OCSVM(**{"nu": 0.1, **kw}), UNSUPERVISED, [("nu", 0.0), ("gamma", "auto")],
                  seed_parameter=None),
    "IsolationForest": Case(lambda **kw: IsolationForest(**{"n_estimators": 50, "random_state": 0, **kw}),
                            UNSUPERVISED, [("max_samples", 0)]),
    "KDE": Case(lambda **kw: KDE(**{"random_state": 0, **kw}), UNSUPERVISED, [("bandwidth", -1.0), ("rtol", -1e-3)],
                seed_parameter=None),
    "SSAD": Case(lambda **kw: SSAD(**kw), SEMI_SUPERVISED, [("C", 0.0), ("kappa", -1.0)], seed_parameter=None),
    "Hybrid": Case(lambda **kw: Hybrid(**{"detector": SSAD(), "autoencoder": Autoencoder(**AUTOENCODER), **kw}),
                   SEMI_SUPERVISED, [("detector", "ocsvm")], seed_parameter="autoencoder__random_state"),
    "FCDD": Case(lambda **kw: FCDD(**{"epochs": 3, "lr": 1e-2, "batch_size": 32, "random_state": 0, **kw}),
                 SEMI_SUPERVISED, [("eta", 0.0), ("epochs", -1), ("lr", -1.0), ("batch_size", 0), ("auxiliary_fraction", 1.0),
                                   ("synthetic_fraction", 0.0), ("sigma", -1.0)], samples=IMAGES),
}


def blobs(seed: int = 0, samples: Samples = TABLE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """200 normal samples and 20 far anomalies (by default points in 6 dimensions); labels:
    5 known anomalies and 5 known normals, the rest unlabeled. Returns X, y and the truth
    (1 = anomaly)."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([samples.normal(rng, 200), samples.anomalous(rng, 20)])
    truth = np.r_[np.zeros(200), np.ones(20)]
    y = np.zeros(220, dtype=int)
    y[200:205] = -1
    y[:5] = 1
    return X, y, truth


def training_labels(case: Case, y: np.ndarray) -> np.ndarray | None:
    """The labels a case is fitted with in the contract: none for an unsupervised method."""
    return None if case.labels == UNSUPERVISED else y
