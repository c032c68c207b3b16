"""Figures from a results store: a metric against a scenario setting, ROC curves, the realised
against the nominal false-alarm rate of conformal thresholds, and the most normal and most
anomalous test images.

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
from deepsad.decisions.conformal import split_conformal_rates
from deepsad.experiments.methods import METHODS
from deepsad.experiments.novelty import missing_data
from deepsad.experiments.scenarios import (
    SETTING_AXES,
    SETTING_COLUMNS,
    Curves,
    all_curves,
    line_labels,
    settings_text,
)
from deepsad.experiments.stores import ReadableStore

logger = logging.getLogger(__name__)

GRID_SIZE = 16


def metric_vs_setting_figures(frame: pd.DataFrame, metric: str = "auroc") -> dict[str, bytes]:
    """``metric`` against each of γl, γp and kl, and against each numeric estimator parameter
    that varies (η): one panel per dataset on which it takes at least two values, one line per
    method, the other settings fixed (one figure per combination of them); the paper's values,
    where it printed them, as dashed lines.

    As in the paper, a point is the mean over experiments (normal class × known anomaly
    classes, each averaged over its seeds) and its error bar their standard deviation
    (``deepsad.experiments.scenarios``); the γl = 0 point is on the curve of every kl. A point
    over fewer experiments than the panel's most is marked with its number, "n = k".
    """
    every_curve = all_curves(frame, metric)
    figures = {}
    for curves in every_curve:
        fixed = [c for c in SETTING_COLUMNS if c != curves.axis]
        varying = [
            c for c in fixed if len({other.settings[c] for other in every_curve if other.axis == curves.axis}) > 1
        ]
        name = _slug(f"{metric}_vs_{curves.axis}", {c: curves.settings[c] for c in varying})
        figures[f"{name}.png"] = _metric_vs_setting(curves, metric)
    return figures


def _metric_vs_setting(curves: Curves, metric: str) -> bytes:
    axis, points = curves.axis, curves.points
    datasets = sorted(points["dataset"].unique())
    figure, panels = _panels(len(datasets), columns=3, size=(4.5, 3.4))
    for panel, dataset in zip(panels, datasets):
        rows = points[points["dataset"] == dataset]
        most = rows["experiments"].max()
        for line, curve in rows.groupby("line", sort=True):
            curve = curve.sort_values(axis)
            if _same_at_every_gamma(curves, line, curve):
                # Its training data are those of γl = 0 at every γl: one run is the whole line.
                panel.axhline(curve["mean"].iloc[0], linestyle=":", color="0.3",
                              label=f"{line} (γl = 0 run: ignores labels)")
                continue
            drawn = panel.errorbar(
                curve[axis], curve["mean"], yerr=curve["std"].fillna(0.0), marker="o", capsize=3, label=line
            )
            for point in curve[curve["experiments"] < most].itertuples(index=False):
                # A mean over fewer experiments than the panel's others is no like for like: say so,
                # to the left of the panel's last point, whose right is outside the axes.
                last = getattr(point, axis) == rows[axis].max()
                panel.annotate(f"n = {point.experiments}", (getattr(point, axis), point.mean), fontsize="x-small",
                               color=drawn[0].get_color(), xytext=(-4 if last else 4, -10),
                               textcoords="offset points", ha="right" if last else "left")
            paper = curve.dropna(subset=["paper_mean"])
            if len(paper):
                panel.plot(
                    paper[axis],
                    paper["paper_mean"],
                    linestyle="--",
                    marker="x",
                    color=drawn[0].get_color(),
                    alpha=0.6,
                    label=f"{line} (paper)",
                )
        label = SETTING_AXES.get(axis, f"{axis} (estimator parameter)")
        panel.set(title=dataset, xlabel=label, ylabel=f"{metric.upper()} (%)")
        values = rows[axis]
        if axis not in SETTING_AXES and (values > 0).all() and values.max() / values.min() >= 100:
            panel.set_xscale("log")
        if axis == "n_known_classes":
            panel.set_xticks(sorted(values.unique()))  # a count: no ticks between the classes
        panel.legend(fontsize="x-small")
    figure.suptitle(
        f"mean ± std over experiments\n(normal × known classes, seeds averaged)\n{settings_text(curves.settings)}",
        fontsize="small",
    )
    return _png(figure)


def _same_at_every_gamma(curves: Curves, line: str, curve: pd.DataFrame) -> bool:
    """Whether ``line`` is a method that ignores labels, run at γl = 0 only, on a γl curve
    without pollution: it leaves the labeled anomalies out, so it trains on the same data at
    every γl."""
    method = METHODS.get(line.split(" ")[0])
    return (curves.axis == "ratio_known_anomaly" and curves.settings.get("ratio_pollution") == 0
            and method is not None and method.ignores_labels and curve[curves.axis].tolist() == [0.0])


NOMINAL_ALPHAS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
"""The false-alarm rates the calibration figure asks for."""


def false_alarm_calibration_figures(frame: pd.DataFrame, store: ReadableStore) -> dict[str, bytes]:
    """Per dataset, the realised false-alarm rate of conformal thresholds against the nominal
    α, one line per method: each run's test scores are halved at random 20 times, one half's
    normal samples calibrate (the known normals a user sets aside), the other half's give the
    realised rate (``split_conformal_rates``); the mean over the splits, then over the runs. A
    line on or below the diagonal keeps its promise; small calibration sets step below it."""
    frame = frame.assign(line=line_labels(frame))
    figures = {}
    for dataset, rows in frame.groupby("dataset", sort=True):
        figure, (panel,) = _panels(1, columns=1, size=(4.8, 4.2))
        for line, runs in rows.groupby("line", sort=True):
            realised = np.nanmean([split_conformal_rates(outcome.scores, outcome.truth, NOMINAL_ALPHAS, seed=index)[0]
                                   for index, outcome in enumerate(store.outcome(key) for key in runs["key"])],
                                  axis=0)  # fmt: skip
            panel.plot(NOMINAL_ALPHAS, realised, marker="o", label=f"{line} ({len(runs)} runs)")
        limit = max(NOMINAL_ALPHAS)
        panel.plot([0, limit], [0, limit], color="0.6", linestyle=":", label="promised bound (α)")
        panel.set(title=f"{dataset}: conformal thresholds", xlabel="nominal false-alarm rate α",
                  ylabel="realised false-alarm rate", xlim=(0, limit), ylim=(0, limit))
        panel.legend(fontsize="x-small")
        figure.suptitle("calibrated on the normals of a random half of each test set, measured on the other half's;"
                        "\nmean over 20 halvings and the runs", fontsize="x-small")
        figures[f"{_slug(f'false_alarm_calibration_{dataset}', {})}.png"] = _png(figure)
    return figures


def roc_figures(frame: pd.DataFrame, store: ReadableStore) -> dict[str, bytes]:
    """ROC curves per dataset and scenario setting: one panel per normal class (one panel for
    ODDS sets), one curve per method, each from the method's lowest seed."""
    frame = frame.assign(line=line_labels(frame))
    figures = {}
    for dataset, rows in frame.groupby("dataset", sort=True):
        parts = list(rows.groupby(list(SETTING_COLUMNS), sort=True))
        varying = [c for c in SETTING_COLUMNS if rows[c].nunique() > 1]
        for values, part in parts:
            settings = dict(zip(SETTING_COLUMNS, values))
            name = _slug(f"roc_{dataset}", {c: settings[c] for c in varying})
            figures[f"{name}.png"] = _roc_figure(part, store, dataset, settings_text(settings))
    return figures


def _roc_figure(frame: pd.DataFrame, store: ReadableStore, dataset: str, settings_text: str) -> bytes:
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
        panel.set(
            title="" if normal_class is None else f"normal class {normal_class}",
            xlabel="false positive rate",
            ylabel="true positive rate",
        )
        panel.legend(fontsize="x-small", title="AUROC %", title_fontsize="x-small", loc="lower right")
    seed_text = f"seed {lowest['seed'].iloc[0]}" if single_seed else "lowest seed of each method"
    figure.suptitle(f"ROC, {dataset}, {seed_text}\n{settings_text}", fontsize="small")
    return _png(figure)


def image_grids(
    frame: pd.DataFrame, store: ReadableStore, data_root=None, notify: Callable[[str], None] = logger.warning
) -> dict[str, bytes]:
    """The 16 most normal and 16 most anomalous test images of one experiment per dataset,
    normal class and method: the lowest seed (then the first scenario setting in sorted order).

    Where a line ran at γl = 0 and γl = ``COMPARED_GAMMA`` (no pollution) with one seed in
    common, a second figure shows the two runs' images side by side, as the paper's argument
    goes: what a few labeled anomalies change in what the model finds most anomalous. For Deep
    SAD, a one-class Deep SVDD run of the same normal class and seed stands in at γl = 0 where
    the sweep ran that instead (the same loss without the labeled term).

    Where the experiment's outcome holds heatmaps (the deep image models:
    ``deepsad.experiments.gallery``), a gallery shows its most anomalous test images with the
    heatmap laid over each: where the model sees the anomaly.

    Covers the data sets whose samples are images, read from ``data_root`` without
    downloading; a dataset whose files are missing is skipped and ``notify`` told why.
    """
    frame = frame.assign(line=line_labels(frame))
    figures = {}
    image_datasets = {name for name, info in DATASETS.items() if info.image_shape is not None}
    for dataset in sorted(set(frame["dataset"]) & image_datasets):
        missing = missing_data(dataset, data_root)
        if missing:
            notify(f"skipped the image grids of {dataset}: {missing}")
            continue
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
                notify(
                    f"skipped the image grid of {dataset} experiment {row.key}: its test indices exceed the "
                    f"{len(images)} test images found"
                )
                continue
            title = f"{dataset}, normal class {normal_class}, {line}, seed {row.seed}"
            name = _slug(f"images_{dataset}_class{normal_class}_{line}", {})
            figures[f"{name}.png"] = _image_grid(images[outcome.indices], outcome.scores, title)
            if outcome.heatmaps is not None:
                name = _slug(f"heatmaps_{dataset}_class{normal_class}_{line}", {})
                figures[f"{name}.png"] = _heatmap_gallery(images, outcome, title)
            compared = _labeled_counterparts(chosen)
            if compared is None and line == "deepsad":
                compared = _labeled_counterparts(pd.concat([_one_class_deep_svdd(rows, normal_class), chosen]))
            if compared is not None:
                name = _slug(f"images_{dataset}_class{normal_class}_{line}_gamma_l_0_vs_{COMPARED_GAMMA:g}", {})
                figures[f"{name}.png"] = _comparison_grid(
                    images, store, compared, f"{dataset}, normal class {normal_class}, {line}"
                )
    return figures


COMPARED_GAMMA = 0.05
"""The γl whose most normal and most anomalous images an image report shows beside γl = 0."""


def _labeled_counterparts(rows: pd.DataFrame) -> list | None:
    """The runs, among one normal class and line's ``rows`` (sorted by seed first), to show
    side by side: γl = 0 and γl = ``COMPARED_GAMMA``, no pollution, no known normals, the same
    seed (the lowest both have); None where either is missing."""
    clean = rows[(rows["ratio_pollution"] == 0) & (rows["ratio_known_normal"] == 0)]
    unlabeled = clean[clean["ratio_known_anomaly"] == 0]
    labeled = clean[np.isclose(clean["ratio_known_anomaly"], COMPARED_GAMMA)]
    seeds = sorted(set(unlabeled["seed"]) & set(labeled["seed"]))
    if not seeds:
        return None
    return [part[part["seed"] == seeds[0]].iloc[0] for part in (unlabeled, labeled)]


def _one_class_deep_svdd(rows: pd.DataFrame, normal_class) -> pd.DataFrame:
    """One-class Deep SVDD runs of ``normal_class`` without labels: Deep SAD at γl = 0 (the same
    loss without its labeled term), where a sweep ran Deep SVDD for that point instead."""
    one_class = rows["params"].map(lambda text: json.loads(text).get("objective", "one-class") == "one-class")
    return rows[(rows["method"] == "deepsvdd") & (rows["normal_class"] == normal_class) & one_class
                & (rows["ratio_known_anomaly"] == 0)]


def _comparison_grid(images: np.ndarray, store: ReadableStore, rows: list, title: str) -> bytes:
    """Rows of the figure: the runs; columns: their most normal and most anomalous images."""
    figure, panels = _panels(2 * len(rows), columns=2, size=(3.6, 3.8))
    for run, (normal_panel, anomalous_panel) in zip(rows, zip(panels[::2], panels[1::2])):
        outcome = store.outcome(run.key)
        order = np.argsort(outcome.scores, kind="stable")
        count = min(GRID_SIZE, len(order) // 2)
        auroc = 100 * roc_auc_score(outcome.truth, outcome.scores)
        known = f", known class {run.known_anomaly_classes}" if run.known_anomaly_classes else ""
        stands_in = ", Deep SVDD" if run.method == "deepsvdd" else ""  # Deep SAD without labels
        setting = f"γl = {run.ratio_known_anomaly:g}{stands_in}{known} (AUROC {auroc:.1f})"
        for panel, chosen, label in (
            (normal_panel, order[:count], "most normal"),
            (anomalous_panel, order[::-1][:count], "most anomalous"),
        ):
            _show(panel, images[outcome.indices][chosen], f"{setting}\n{count} {label}")
    figure.suptitle(f"{title}, seed {rows[0].seed}", fontsize="medium")
    return _png(figure)


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
    for panel, chosen, label in (
        (normal_panel, order[:count], "most normal (lowest scores)"),
        (anomalous_panel, order[::-1][:count], "most anomalous (highest scores)"),
    ):
        _show(panel, images[chosen], f"{count} {label}")
    figure.suptitle(title, fontsize="medium")
    return _png(figure)


def _heatmap_gallery(images: np.ndarray, outcome, title: str) -> bytes:
    """The outcome's explained test images (most anomalous first): each image above the same
    image with its heatmap over it, and the truth and score in the title."""
    positions = outcome.heatmap_positions
    figure = Figure(figsize=(1.7 * len(positions), 4.0), layout="constrained")
    panels = figure.subplots(2, len(positions), squeeze=False)
    for column, (position, heat) in enumerate(zip(positions, outcome.heatmaps)):
        image = images[outcome.indices[position]].transpose(1, 2, 0)
        picture = image.squeeze(-1) if image.shape[-1] == 1 else image
        for panel in panels[:, column]:
            panel.imshow(picture, cmap="gray", vmin=0, vmax=255)
            panel.axis("off")
        panels[1, column].imshow(heat, cmap="inferno", alpha=0.5)
        truth = "anomaly" if outcome.truth[position] == 1 else "normal"
        panels[0, column].set_title(f"#{column + 1} {truth}\nscore {outcome.scores[position]:.3g}", fontsize="x-small")
    figure.suptitle(f"{title}\nthe {len(positions)} most anomalous test images and their {outcome.heatmap_kind}",
                    fontsize="small")
    return _png(figure)


def _show(panel, images: np.ndarray, title: str) -> None:
    mosaic = _mosaic(images)
    panel.imshow(mosaic.squeeze(-1) if mosaic.shape[-1] == 1 else mosaic, cmap="gray", vmin=0, vmax=255)
    panel.set_title(title, fontsize="small")
    panel.axis("off")


def _mosaic(images: np.ndarray, columns: int = 4, gap: int = 1) -> np.ndarray:
    """Tile (n, c, h, w) images into one (height, width, c) picture, row by row."""
    n, channels, height, width = images.shape
    rows = max(1, -(-n // columns))
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, channels), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        top, left = (i // columns) * (height + gap), (i % columns) * (width + gap)
        canvas[top : top + height, left : left + width] = image.transpose(1, 2, 0)
    return canvas


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
