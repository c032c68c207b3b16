"""What a finished experiment leaves besides its metrics: the test scores and ground truth,
kept so reports can draw ROC curves and show the most normal and most anomalous samples."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class ExperimentOutcome:
    """Anomaly scores of the test samples, their truth (1 = anomaly) and their indices into
    the dataset's test split (class datasets) or rows (ODDS)."""

    scores: np.ndarray
    truth: np.ndarray
    indices: np.ndarray

    def to_bytes(self) -> bytes:
        """A compressed ``.npz`` payload (plain arrays, so reading it runs no code)."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            scores=np.asarray(self.scores, dtype="<f4"),
            truth=np.asarray(self.truth, dtype=np.int8),
            indices=np.asarray(self.indices, dtype="<i8"),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> ExperimentOutcome:
        with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
            return cls(
                scores=arrays["scores"].astype(np.float64),
                truth=arrays["truth"].astype(np.int64),
                indices=arrays["indices"].astype(np.int64),
            )
