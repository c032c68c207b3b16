"""Figures from a results store: a metric against a scenario setting, ROC curves, and the most
normal and most anomalous test images.

Every function takes the frame of ``report.results_frame`` and returns ``{file name: PNG
bytes}``, leaving the writing to the caller. Figures are drawn on ``matplotlib.figure.Figure``
objects rather than through ``pyplot``, so no window can open, no global backend is switched
for the importing process, and nothing stays registered in pyplot's figure manager.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from deepsad.data.datasets import DATASETS, load_dataset
from deepsad.experiments.store import ResultsStore

logger = logging.getLogger(__name__)

SETTING_AXES = {
    "ratio_known_anomaly": "γl: ratio of labeled anomalies",
    "ratio_pollution": "γp: pollution ratio",
    "n_known_classes": "kl: number of known anomaly classes",
}
SETTING_COLUMNS = ("ratio_known_normal", *SETTING_AXES)
"""The scenario settings; a figure shows one combination of those it does not plot against."""
GRID_SIZE = 16


def metric_vs_setting_figures(frame: pd.DataFrame, metric: str = "auroc") -> dict[str, bytes]:
    """``metric`` against each of γl, γp and kl: one panel per dataset on which the setting
    takes at least two values, one line per method, the other settings fixed (one figure per
    combination of them).

    Following the paper, a point is the mean over seeds of the metric averaged over normal
    classes, and its error bar the standard deviation (ddof=1) over seeds of those averages.
    """
    frame = frame.assign(line=_line_labels(frame))
    figures = {}
    for axis in SETTING_AXES:
        fixed = [c for c in SETTING_COLUMNS if c != axis]
        parts = [(dict(zip(fixed, values)), part[part.groupby("dataset")[axis].transform("nunique") >= 2])
                 for values, part in frame.groupby(fixed, sort=True)]
        parts = [(settings, part) for settings, part in parts if not part.empty]
        varying = [c for c in fixed if len({settings[c] for settings, _ in parts}) > 1]
        for settings, part in parts:
            name = _slug(f"{metric}_vs_{axis}", {c: settings[c] for c in varying})
            figures[f"{name}.png"] = _metric_vs_setting(part, axis, metric, settings)
    return figures


def _metric_vs_setting(frame: pd.DataFrame, axis: str, metric: str, settings: dict) -> bytes:
    datasets = sorted(frame["dataset"].unique())
    figure, panels = _panels(len(datasets), columns=3, size=(4.5, 3.4))
    for panel, dataset in zip(panels, datasets):
        rows = frame[frame["dataset"] == dataset]
        per_seed = rows.groupby(["line", axis, "seed"])[metric].mean()
        points = per_seed.groupby(level=["line", axis]).agg(["mean", "std"])
        for line, curve in points.groupby(level="line"):
            panel.errorbar(curve.index.get_level_values(axis), 100 * curve["mean"], yerr=100 * curve["std"].fillna(0.0),
                           marker="o", capsize=3, label=line)
        panel.set(title=dataset, xlabel=SETTING_AXES[axis], ylabel=f"{metric.upper()} (%)")
        panel.legend(fontsize="small")
    figure.suptitle(f"mean ± std over seeds (normal classes averaged first)\n{_settings_text(settings)}", fontsize="small")
    return _png(figure)


def roc_figures(frame: pd.DataFrame, store: ResultsStore) -> dict[str, bytes]:
    """ROC curves per dataset and scenario setting: one panel per normal class (one panel for
    ODDS sets), one curve per method, each from the method's lowest seed."""
    frame = frame.assign(line=_line_labels(frame))
    figures = {}
    for dataset, rows in frame.groupby("dataset", sort=True):
        parts = list(rows.groupby(list(SETTING_COLUMNS), sort=True))
        varying = [c for c in SETTING_COLUMNS if rows[c].nunique() > 1]
        for values, part in parts:
            settings = dict(zip(SETTING_COLUMNS, values))
            name = _slug(f"roc_{dataset}", {c: settings[c] for c in varying})
            figures[f"{name}.png"] = _roc_figure(part, store, dataset, _settings_text(settings))
    return figures


def _roc_figure(frame: pd.DataFrame, store: ResultsStore, dataset: str, settings_text: str) -> bytes:
    # one run per panel and line: its lowest seed
    lowest = frame.sort_values(["seed", "key"]).groupby(["normal_class", "line"], dropna=False, sort=True).head(1)
    single_seed = lowest["seed"].nunique() == 1
    classes = sorted(lowest["normal_class"].dropna().unique()) or [None]
    figure, panels = _panels(len(classes), columns=5, size=(3.4, 3.4))
    for panel, normal_class in zip(panels, classes):
        runs = lowest if normal_class is None else lowest[lowest["normal_class"] == normal_class]
        for run in runs.sort_values("line").itertuples():
            outcome = store.outcome(run.key)
            false_positive_rate, true_positive_rate, _ = roc_curve(outcome.truth, outcome.scores)
            auroc = 100 * roc_auc_score(outcome.truth, outcome.scores)
            seed_text = "" if single_seed else f", seed {run.seed}"
            panel.plot(false_positive_rate, true_positive_rate, label=f"{run.line} ({auroc:.1f}{seed_text})")
        panel.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1)
        panel.set(title="" if normal_class is None else f"normal class {normal_class}",
                  xlabel="false positive rate", ylabel="true positive rate")
        panel.legend(fontsize="x-small", title="AUROC %", title_fontsize="x-small", loc="lower right")
    seed_text = f"seed {lowest['seed'].iloc[0]}" if single_seed else "lowest seed of each method"
    figure.suptitle(f"ROC, {dataset}, {seed_text}\n{settings_text}", fontsize="small")
    return _png(figure)


def image_grids(
    frame: pd.DataFrame, store: ResultsStore, data_root=None, notify: Callable[[str], None] = logger.warning
) -> dict[str, bytes]:
    """The 16 most normal and 16 most anomalous test images of one experiment per dataset,
    normal class and method: the lowest seed (then the first scenario setting in sorted order).

    Covers the data sets whose samples are images, read from ``data_root`` without
    downloading; a dataset whose files are missing is skipped and ``notify`` told why.
    """
    frame = frame.assign(line=_line_labels(frame))
    figures = {}
    image_datasets = {name for name, info in DATASETS.items() if info.image_shape is not None}
    for dataset in sorted(set(frame["dataset"]) & image_datasets):
        try:
            images = _test_images(dataset, data_root)
        except (OSError, ValueError) as error:
            notify(f"skipped the image grids of {dataset}: {error}")
            continue
        rows = frame[frame["dataset"] == dataset].sort_values(["seed", *SETTING_COLUMNS, "key"])
        for (normal_class, line), chosen in rows.groupby(["normal_class", "line"], sort=True):
            row = chosen.iloc[0]
            outcome = store.outcome(row.key)
            if outcome.indices.max(initial=-1) >= len(images):
                notify(f"skipped the image grid of {dataset} experiment {row.key}: its test indices exceed the "
                       f"{len(images)} test images found")
                continue
            title = f"{dataset}, normal class {normal_class}, {line}, seed {row.seed}"
            name = _slug(f"images_{dataset}_class{normal_class}_{line}", {})
            figures[f"{name}.png"] = _image_grid(images[outcome.indices], outcome.scores, title)
    return figures


def _test_images(dataset: str, data_root) -> np.ndarray:
    """uint8 images (n, channels, height, width) that a stored outcome's indices point into:
    the official test split, or the rows of a data set split per seed."""
    info = DATASETS[dataset]
    data = load_dataset(dataset, root=data_root, download=False)
    images = data.X_test if info.official_split else data.X
    images = np.asarray(images).reshape(len(images), *info.image_shape)
    return np.round(images * (255 / info.pixel_max)).astype(np.uint8)


def _image_grid(images: np.ndarray, scores: np.ndarray, title: str) -> bytes:
    order = np.argsort(scores, kind="stable")
    count = min(GRID_SIZE, len(order) // 2)
    figure, (normal_panel, anomalous_panel) = _panels(2, columns=2, size=(3.6, 3.8))
    for panel, chosen, label in ((normal_panel, order[:count], "most normal (lowest scores)"),
                                 (anomalous_panel, order[::-1][:count], "most anomalous (highest scores)")):
        mosaic = _mosaic(images[chosen])
        panel.imshow(mosaic.squeeze(-1) if mosaic.shape[-1] == 1 else mosaic, cmap="gray", vmin=0, vmax=255)
        panel.set_title(f"{count} {label}", fontsize="small")
        panel.axis("off")
    figure.suptitle(title, fontsize="medium")
    return _png(figure)


def _mosaic(images: np.ndarray, columns: int = 4, gap: int = 1) -> np.ndarray:
    """Tile (n, c, h, w) images into one (height, width, c) picture, row by row."""
    n, channels, height, width = images.shape
    rows = max(1, -(-n // columns))
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, channels), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        top, left = (i // columns) * (height + gap), (i % columns) * (width + gap)
        canvas[top:top + height, left:left + width] = image.transpose(1, 2, 0)
    return canvas


def _line_labels(frame: pd.DataFrame) -> pd.Series:
    """The method, followed by the parameters that tell its runs apart where one method ran
    with several parameter sets on one dataset (e.g. ``deepsad eta=0.1``)."""
    labels = frame["method"].copy()
    for _, group in frame.groupby(["dataset", "method"]):
        if group["params"].nunique() < 2:
            continue
        params = group["params"].map(json.loads)
        keys = sorted({key for p in params for key in p})
        varying = [k for k in keys if len({json.dumps(p.get(k), sort_keys=True) for p in params}) > 1]
        labels[group.index] = [
            group["method"].iloc[0] + " " + " ".join(f"{k}={json.dumps(p.get(k))}" for k in varying)
            for p in params
        ]
    return labels


def _settings_text(settings: dict) -> str:
    symbols = {"ratio_known_normal": "known normals", "ratio_known_anomaly": "γl", "ratio_pollution": "γp",
               "n_known_classes": "kl"}
    return ", ".join(f"{symbols[c]} = {v:g}" for c, v in settings.items())


def _slug(stem: str, settings: dict) -> str:
    """A file name from ``stem`` and settings, of safe characters; long ones end in a hash."""
    text = "__".join([stem, *(f"{c}={v:g}" for c, v in settings.items())])
    slug = re.sub(r"[^A-Za-z0-9.=_-]+", "_", text).strip("_")
    if len(slug) > 100:
        slug = f"{slug[:80]}_{hashlib.sha256(text.encode()).hexdigest()[:10]}"
    return slug


def _panels(count: int, columns: int, size: tuple[float, float]):
    columns = min(columns, count)
    rows = -(-count // columns)
    figure = Figure(figsize=(size[0] * columns, size[1] * rows), layout="constrained")
    panels = figure.subplots(rows, columns, squeeze=False).ravel()
    for unused in panels[count:]:
        unused.set_visible(False)
    return figure, panels[:count]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
