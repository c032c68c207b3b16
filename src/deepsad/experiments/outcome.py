"""What a finished experiment leaves besides its metrics: the test scores and ground truth,
kept so reports can draw ROC curves and show the most normal and most anomalous samples, and,
for image models that explain themselves, heatmaps of the most anomalous test images."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

HEATMAP_KINDS = ("FCDD heatmap", "integrated gradients")
"""What a stored heatmap is: FCDD's own upsampled map A(x), or the absolute integrated gradients
of the anomaly score from a black image, summed over the channels."""


@dataclass(frozen=True, eq=False)
class ExperimentOutcome:
    """Anomaly scores of the test samples, their truth (1 = anomaly) and their indices into
    the dataset's test split (class datasets) or rows (ODDS).

    ``heatmaps`` (k, height, width), where present, explain the test samples at
    ``heatmap_positions`` (positions in ``scores``, the most anomalous first); ``heatmap_kind``
    is one of ``HEATMAP_KINDS``."""

    scores: np.ndarray
    truth: np.ndarray
    indices: np.ndarray
    heatmaps: np.ndarray | None = None
    heatmap_positions: np.ndarray | None = None
    heatmap_kind: str | None = None

    def to_bytes(self) -> bytes:
        """A compressed ``.npz`` payload (plain arrays, so reading it runs no code)."""
        arrays = dict(
            scores=np.asarray(self.scores, dtype="<f4"),
            truth=np.asarray(self.truth, dtype=np.int8),
            indices=np.asarray(self.indices, dtype="<i8"),
        )
        if self.heatmaps is not None:
            arrays.update(
                heatmaps=np.asarray(self.heatmaps, dtype="<f4"),
                heatmap_positions=np.asarray(self.heatmap_positions, dtype="<i8"),
                heatmap_kind=np.array(HEATMAP_KINDS.index(self.heatmap_kind), dtype=np.int8),
            )
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> ExperimentOutcome:
        with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
            heatmaps = None
            if "heatmaps" in arrays:
                kind = int(arrays["heatmap_kind"])
                if not 0 <= kind < len(HEATMAP_KINDS):
                    raise ValueError(f"its heatmap kind {kind} is not one of 0..{len(HEATMAP_KINDS) - 1}")
                heatmaps = dict(heatmaps=arrays["heatmaps"].astype(np.float64),
                                heatmap_positions=arrays["heatmap_positions"].astype(np.int64),
                                heatmap_kind=HEATMAP_KINDS[kind])  # fmt: skip
            outcome = cls(
                scores=arrays["scores"].astype(np.float64),
                truth=arrays["truth"].astype(np.int64),
                indices=arrays["indices"].astype(np.int64),
                **(heatmaps or {}),
            )
        if heatmaps is not None:
            positions = outcome.heatmap_positions
            if (outcome.heatmaps.ndim != 3 or len(positions) != len(outcome.heatmaps)
                    or positions.min(initial=0) < 0 or positions.max(initial=-1) >= len(outcome.scores)):  # fmt: skip
                raise ValueError("its heatmaps do not match its test samples")
        return outcome
