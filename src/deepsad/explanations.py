"""Which known case does a flagged sample resemble: its nearest labeled anomalies in a deep
model's embedding space.

Works with every detector that has ``encode`` (the deep models but SSDGM); pair it with
``model.explain(X)`` (per-feature attributions) to answer "why was this flagged?".
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import NearestNeighbors


@dataclass(frozen=True)
class Neighbours:
    """For each sample, the ``indices`` (rows of the labeled anomalies given) of its nearest
    labeled anomalies and their Euclidean ``distances`` in the embedding space, nearest first,
    each of shape (n_samples, k)."""

    indices: np.ndarray
    distances: np.ndarray


def nearest_labeled_anomalies(model, X, labeled_anomalies, k: int = 3) -> Neighbours:
    """The ``k`` labeled anomalies nearest to each sample of ``X`` in ``model``'s embedding.

    Parameters
    ----------
    model : fitted deep detector
        A model with ``encode`` (DeepSAD, DeepSVDD, HSC, SupervisedClassifier, Autoencoder),
        or a ``CalibratedDetector`` around one.
    X : array-like
        The samples to explain, of the shape the model was fitted on.
    labeled_anomalies : array-like
        The known anomalies (e.g. those labeled -1 in training), of the same shape.
    k : int, default=3
        Neighbours per sample; at most the number of labeled anomalies.

    Returns
    -------
    Neighbours
        Row indices into ``labeled_anomalies`` and distances, nearest first.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad import DeepSAD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> known = np.vstack([rng.normal(5, 1, size=(5, 4)), rng.normal(-5, 1, size=(5, 4))])
    >>> model = DeepSAD(epochs=5, ae_epochs=5, random_state=0).fit(np.vstack([X, known]), np.r_[np.zeros(200), -np.ones(10)])
    >>> nearest_labeled_anomalies(model, known[:1] + 0.1, known, k=2).indices.shape
    (1, 2)
    """
    model = getattr(model, "detector_", model)  # a CalibratedDetector embeds with its detector
    if not hasattr(model, "encode"):
        raise TypeError(f"{type(model).__name__} has no embedding (encode); use a deep model such as DeepSAD")
    if not (isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1):
        raise ValueError(f"k must be a positive integer; got {k!r}")
    k = int(k)
    references = model.encode(labeled_anomalies)
    if k > len(references):
        raise ValueError(f"k={k} is more than the {len(references)} labeled anomalies given")
    search = NearestNeighbors(n_neighbors=k).fit(references)
    distances, indices = search.kneighbors(model.encode(X))
    return Neighbours(indices, distances)
