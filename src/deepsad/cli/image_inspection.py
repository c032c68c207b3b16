"""``deepsad inspect``: fit FCDD on an image folder in the industrial layout, evaluate it on the
folder's test images and write the model, the metrics, one row per test image and heatmap
overlays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from deepsad.cli.explain_files import overlay_png, remove_overlays
from deepsad.cli.user_data import check_flag_params
from deepsad.data.image_folders import read_image_folder, read_images
from deepsad.files import write_atomically


def inspect_folder(root, out: Path, image_size, params: dict, seed: int, device: str | None, overlays: int,
                   auxiliary=None) -> dict:
    """Fit, evaluate and write; returns the metrics. ``auxiliary``: a folder of images unlike
    the normal ones, for Outlier Exposure."""
    from deepsad import FCDD

    check_flag_params(params)
    out.mkdir(parents=True, exist_ok=True)  # before training: a bad --out fails at once
    if auxiliary is not None:
        _check_apart(Path(auxiliary), Path(root))
    data = read_image_folder(root, image_size=image_size)
    X_auxiliary = None
    if auxiliary is not None:
        X_auxiliary = read_images(auxiliary, data.X_train.shape[2:], channels=data.X_train.shape[1])
    model = FCDD(random_state=seed, **({} if device is None else {"device": device}), **params).fit(
        data.X_train, X_auxiliary=X_auxiliary)
    scores = model.anomaly_score(data.X_test)
    heat = model.heatmap(data.X_test)
    metrics = {"training_images": len(data.X_train), "auxiliary_images": 0 if X_auxiliary is None else len(X_auxiliary),
               "test_images": len(data.X_test),
               "anomalous_test_images": int(data.y_test.sum()), "threshold": model.threshold_}  # fmt: skip
    if 0 < data.y_test.sum() < len(data.y_test):
        metrics["image_auroc"] = float(roc_auc_score(data.y_test, scores))
    if data.has_mask.any():
        metrics["test_images_with_masks"] = int(data.has_mask.sum())
        with_mask = data.has_mask | (data.y_test == 0)  # normal images: all pixels normal
        pixels = data.masks[with_mask].ravel()
        if 0 < pixels.sum() < len(pixels):
            metrics["pixel_auroc"] = float(roc_auc_score(pixels, heat[with_mask].ravel()))
    model.save(out / "model.safetensors")
    table = pd.DataFrame({"file": [str(p) for p in data.paths], "defect": data.defects, "anomaly_score": scores,
                          "prediction": np.where(scores > model.threshold_, -1, 1)})  # fmt: skip
    write_atomically(out / "test_scores.csv", table.to_csv(index=False))
    write_atomically(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    remove_overlays(out / "heatmaps")
    for rank, row in enumerate(np.argsort(-scores, kind="stable")[:overlays], start=1):
        name = f"rank{rank:03d}_{data.defects[row]}_{Path(data.paths[row]).stem}.png"
        write_atomically(out / "heatmaps" / name, overlay_png(data.X_test[row], heat[row], scores[row],
                                                              f"{data.defects[row]}/{Path(data.paths[row]).name}"))
    return metrics


def _check_apart(auxiliary: Path, root: Path) -> None:
    """Refuse an auxiliary folder that holds the data folder's own images: its test images
    would become training anomalies."""
    auxiliary, root = auxiliary.resolve(), root.resolve()
    for part in (root / "train", root / "test", root / "ground_truth"):
        if part.is_relative_to(auxiliary) or auxiliary.is_relative_to(part):
            raise ValueError(f"--auxiliary {auxiliary} holds images of the data folder's {part.name}/ part; "
                             "give a folder of other images (Outlier Exposure) outside it")
