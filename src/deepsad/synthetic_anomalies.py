"""Synthetic defects pasted into images, with their pixel masks: anomalies to train on where
there are none (FCDD's "confetti" noise), and a benchmark with known ground truth for
pixel-level explanations.

Every function takes images of shape (n, channels, height, width) with values in [0, 1] and a
NumPy Generator, and returns new images and boolean masks (n, height, width) of the pixels
changed; the input is left unchanged.
"""

from __future__ import annotations

import numpy as np

DEFECTS = ("patch", "scratch", "blob", "confetti")


def add_defects(images: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One defect of ``kind`` ("patch", "scratch", "blob" or "confetti") in every image."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, channels, height, width); got {images.shape}")
    if kind not in DEFECTS:
        raise ValueError(f"kind must be one of {list(DEFECTS)}; got {kind!r}")
    makers = {"patch": _patch, "scratch": _scratch, "blob": _blob, "confetti": _confetti}
    n, channels, height, width = images.shape
    rows, columns = np.mgrid[0:height, 0:width]
    result, masks = images.astype(np.float32, copy=True), np.zeros((n, height, width), dtype=bool)
    for i in range(n):
        alpha, colour = makers[kind](rows, columns, channels, rng)
        result[i] = (1 - alpha) * result[i] + alpha * colour[:, None, None]
        masks[i] = alpha > 0.1
    return result, masks


def _colour(channels: int, rng: np.random.Generator) -> np.ndarray:
    """Bright or dark: a defect should differ from the surface it lands on."""
    base = rng.choice([0.05, 0.95])
    return np.clip(base + rng.normal(0, 0.05, channels), 0, 1).astype(np.float32)


def _patch(rows, columns, channels, rng):
    height, width = rows.shape
    size_r = min(height, rng.integers(max(1, height // 8), max(2, height // 4) + 1))
    size_c = min(width, rng.integers(max(1, width // 8), max(2, width // 4) + 1))
    top, left = rng.integers(0, height - size_r + 1), rng.integers(0, width - size_c + 1)
    alpha = ((rows >= top) & (rows < top + size_r) & (columns >= left) & (columns < left + size_c)).astype(np.float32)
    return alpha, _colour(channels, rng)


def _scratch(rows, columns, channels, rng):
    """A thin line of random direction through a random point, over 40–80% of the image."""
    height, width = rows.shape
    angle = rng.uniform(0, np.pi)
    centre = rng.uniform([height * 0.25, width * 0.25], [height * 0.75, width * 0.75])
    along = (rows - centre[0]) * np.sin(angle) + (columns - centre[1]) * np.cos(angle)
    across = -(rows - centre[0]) * np.cos(angle) + (columns - centre[1]) * np.sin(angle)
    half_length = rng.uniform(0.2, 0.4) * max(height, width)
    alpha = ((np.abs(across) <= 0.75) & (np.abs(along) <= half_length)).astype(np.float32)
    return alpha, _colour(channels, rng)


def _blob(rows, columns, channels, rng):
    """A soft Gaussian spot."""
    height, width = rows.shape
    centre = rng.uniform([2, 2], [height - 2, width - 2])
    sigma = rng.uniform(1.0, max(1.5, height / 10))
    alpha = np.exp(-((rows - centre[0]) ** 2 + (columns - centre[1]) ** 2) / (2 * sigma**2)).astype(np.float32)
    alpha[alpha < 0.1] = 0
    return alpha, _colour(channels, rng)


def _confetti(rows, columns, channels, rng):
    """FCDD's confetti noise: a few small rectangles of random colour, blended over one mask
    (one colour per image here, for simplicity)."""
    alpha = np.zeros(rows.shape, dtype=np.float32)
    for _ in range(rng.integers(3, 8)):
        part, _ = _patch(rows, columns, channels, rng)
        alpha = np.maximum(alpha, part * rng.uniform(0.6, 1.0))
    return alpha, rng.random(channels).astype(np.float32)
