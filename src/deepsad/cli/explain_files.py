"""What ``deepsad explain`` writes: a CSV of per-feature attributions for tables, heatmap
overlays (PNG) of the most anomalous images, each file written atomically."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from deepsad.files import write_atomically

OVERLAY_ALPHA = 0.5


def table_attributions(model, features: pd.DataFrame | np.ndarray, steps: int, threshold: float) -> pd.DataFrame:
    """One row per sample, in the file's order: anomaly_score, prediction (at ``threshold``:
    the model's, or its calibration's), then one column per feature (its name where the table
    has names) with the feature's attribution."""
    scores = model.anomaly_score(features)
    attributions = model.explain(features, steps=steps)
    names = list(features.columns) if isinstance(features, pd.DataFrame) else [
        f"feature_{i}" for i in range(attributions.shape[1])]
    table = pd.DataFrame(attributions, columns=[f"attribution:{name}" for name in names])
    table.insert(0, "prediction", np.where(scores > threshold, -1, 1))
    table.insert(0, "anomaly_score", scores)
    return table


def image_overlays(model, images: np.ndarray, steps: int, count: int, out: Path) -> list[Path]:
    """Heatmaps of the ``count`` most anomalous images, one PNG each, and ``images.csv`` naming
    row, score and file: FCDD's own heatmap, or for the other models |integrated gradients|
    summed over channels."""
    scores = model.anomaly_score(images)
    chosen = np.argsort(-scores, kind="stable")[:count]
    if hasattr(model, "heatmap"):  # FCDD explains itself
        maps = model.heatmap(images[chosen])
        pictures = [overlay_png(images[row], heat, scores[row], f"row {row}") for row, heat in zip(chosen, maps)]
    else:
        attributions = model.explain(images[chosen], steps=steps)
        pictures = [_overlay(images[row], attribution, scores[row], row) for row, attribution in zip(chosen, attributions)]
    remove_overlays(out)
    written, rows = [], []
    for rank, (row, picture) in enumerate(zip(chosen, pictures), start=1):
        name = f"rank{rank:03d}_row{row}.png"
        written.append(write_atomically(out / name, picture))
        rows.append({"rank": rank, "row": int(row), "anomaly_score": float(scores[row]), "file": name})
    written.append(write_atomically(out / "images.csv", pd.DataFrame(rows).to_csv(index=False)))
    return written


def remove_overlays(folder: Path) -> None:
    """Delete the ranked overlays an earlier run wrote in ``folder`` (rank001_....png, the
    names this module gives them, no others), so that a reused output folder shows only this
    run's."""
    if folder.is_dir():
        for old in folder.glob("rank[0-9][0-9][0-9]_*.png"):
            old.unlink()


def _overlay(image: np.ndarray, attribution: np.ndarray, score: float, row: int) -> bytes:
    return overlay_png(image, np.abs(attribution).sum(axis=0), score, f"row {row}", "integrated gradients",
                       "|attribution| (score units)")


def overlay_png(image: np.ndarray, heat: np.ndarray, score: float, name: str, method: str = "FCDD heatmap",
                unit: str = "anomaly heat") -> bytes:
    """The image (channels, h, w) and a heatmap (h, w) laid over a copy of it, as PNG."""
    picture = np.clip(image.transpose(1, 2, 0), 0, 1)
    figure = Figure(figsize=(6.4, 3.4), layout="constrained")
    left, right = figure.subplots(1, 2)
    for panel in (left, right):
        panel.imshow(picture.squeeze(-1) if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
        panel.axis("off")
    shown = right.imshow(heat, cmap="inferno", alpha=OVERLAY_ALPHA)
    figure.colorbar(shown, ax=right, shrink=0.8, label=unit)
    left.set_title(f"{name}, anomaly score {score:.4g}", fontsize="small")
    right.set_title(method, fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
