"""Heatmaps of an image experiment's most anomalous test images, computed where the model is
at hand (after scoring) and kept in the outcome, so that ``deepsad report`` can show them
without the model: FCDD's own heatmap, or integrated gradients for the other deep detectors."""

from __future__ import annotations

import numpy as np

GALLERY_SIZE = 8
"""How many of the most anomalous test images get a heatmap."""
IG_STEPS = 32
"""Integrated-gradient steps for the models without a heatmap of their own."""


def heatmap_gallery(estimator, X_test, scores: np.ndarray) -> dict:
    """``heatmaps``, ``heatmap_positions`` and ``heatmap_kind`` for ``ExperimentOutcome``, or
    an empty dict where the samples are not images or the model has neither (the shallow
    baselines)."""
    if np.ndim(X_test) != 4 or not (hasattr(estimator, "heatmap") or hasattr(estimator, "explain")):
        return {}
    positions = np.argsort(-np.asarray(scores), kind="stable")[:GALLERY_SIZE]
    images = np.asarray(X_test)[positions]
    if hasattr(estimator, "heatmap"):
        return dict(heatmaps=estimator.heatmap(images), heatmap_positions=positions, heatmap_kind="FCDD heatmap")
    attributions = estimator.explain(images, steps=IG_STEPS)  # for images, from a black image
    return dict(heatmaps=np.abs(attributions).sum(axis=1), heatmap_positions=positions,
                heatmap_kind="integrated gradients")  # fmt: skip
