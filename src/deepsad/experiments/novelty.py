"""How a run ranks the anomaly classes it had labels of against those it never saw.

The Deep SAD paper's claim that a supervised classifier "fails on novel anomaly classes" is a
statement about the test anomalies of the classes that no labeled sample came from. A run's
AUROC mixes them with those of its known classes; here they are apart, per run: the AUROC of
the normal test samples against the known classes' test anomalies (``auroc_known``) and
against the other classes' (``auroc_novel``; empty where every anomaly class is known), and
against each anomaly class alone. A one-vs-rest data set's test classes are read from its
files (the stored outcome keeps only the truth and the indices into the test split). A method
that ignores labels (``Method.ignores_labels``) never sees the labeled anomalies, so no class
is known to it: its runs are left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from deepsad.data.datasets import DATASETS, load_dataset
from deepsad.data.downloads import data_root as resolved_data_root
from deepsad.experiments.methods import METHODS
from deepsad.experiments.record_files import NOVELTY_COLUMNS
from deepsad.experiments.scenarios import (
    SETTING_COLUMNS,
    SETTING_SYMBOLS,
    line_labels,
    setting_cell,
    settings_text,
    split_settings,
)
from deepsad.experiments.stores import ReadableStore

logger = logging.getLogger(__name__)

NOVELTY_METRICS = ("auroc", *NOVELTY_COLUMNS)
"""The AUROCs ``novelty_table`` summarises: against all test anomalies, the known and the novel."""
_HEADERS = {"auroc": "AUROC", "auroc_known": "AUROC known", "auroc_novel": "AUROC novel"}


def novelty_aurocs(
    frame: pd.DataFrame, store: ReadableStore, data_root=None, notify: Callable[[str], None] = logger.warning
) -> pd.DataFrame:
    """Per run of ``frame`` (``results_frame``; same index): the ``NOVELTY_COLUMNS``, then one
    column per class (named by its number) with the AUROC against that anomaly class's test
    samples alone — AUROCs in [0, 1] like ``auroc``. ``auroc_novel`` is empty (NaN) where every
    anomaly class is known. Every column is empty for a run without known anomaly classes, of a
    method that ignores labels, of a data set that is not one-vs-rest (its one anomaly class is
    the known one), or whose test classes cannot be read: the data set's files are missing from
    ``data_root`` (nothing is downloaded), they do not match the stored truth (another copy of
    the data), or a known class is not an anomaly class of the data set (a class number out of
    range, or the normal class) — ``notify`` is told which, once per data set; and in a class's
    column for the run's normal class and the classes its data set lacks."""
    most_classes = max((len(DATASETS[name].classes) for name in set(frame["dataset"]) if name in DATASETS), default=0)
    result = pd.DataFrame(np.nan, index=frame.index, columns=[*NOVELTY_COLUMNS, *range(most_classes)], dtype=float)
    known = frame["known_anomaly_classes"].map(known_classes)
    with_known = frame[(known.map(len) > 0) & _learns_from_labels(frame)]
    for dataset, rows in with_known.groupby("dataset", sort=True):
        info = DATASETS.get(dataset)
        if info is None or not info.one_vs_rest:
            continue
        missing = missing_data(dataset, data_root)
        if missing:
            notify(f"left out the known- and novel-class AUROCs of {dataset}: {missing}")
            continue
        try:
            labels = _test_labels(dataset, data_root)
        except (OSError, ValueError) as error:
            notify(f"left out the known- and novel-class AUROCs of {dataset}: {error}")
            continue
        mismatched, not_anomalies = 0, {}
        for index, row in rows.iterrows():
            normal = int(row["normal_class"])
            outside = [c for c in known[index] if not 0 <= c < len(info.classes) or c == normal]
            if outside:
                not_anomalies[index] = outside
                continue
            outcome = store.outcome(row["key"])
            indices = np.asarray(outcome.indices)
            if indices.max(initial=-1) >= len(labels):
                mismatched += 1
                continue
            classes = labels[indices]
            truth = np.asarray(outcome.truth) == 1
            if not np.array_equal(truth, classes != normal):
                mismatched += 1
                continue
            is_known = np.isin(classes, known[index])
            scores = np.asarray(outcome.scores)
            result.loc[index, list(NOVELTY_COLUMNS)] = [_auroc(scores, truth, truth & is_known),
                                                        _auroc(scores, truth, truth & ~is_known)]
            for anomaly_class in range(len(info.classes)):
                if anomaly_class != normal:
                    result.loc[index, anomaly_class] = _auroc(scores, truth, classes == anomaly_class)
        if not_anomalies:
            named = sorted({c for classes in not_anomalies.values() for c in classes})
            notify(f"left out the known- and novel-class AUROCs of {len(not_anomalies)} {dataset} run(s): their "
                   f"known anomaly class(es) {', '.join(map(str, named))} are not anomaly classes of {dataset} "
                   f"(0–{len(info.classes) - 1}, other than the run's normal class)")
        if mismatched:
            notify(f"left out the known- and novel-class AUROCs of {mismatched} {dataset} run(s): their stored "
                   f"test truth does not match the classes of the {dataset} files found (another copy of the data?)")
    return result


def missing_data(dataset: str, data_root) -> str | None:
    """What the report lacks to read ``dataset`` from ``data_root`` and how to get it, or None
    when its files are there (a report reads data, it never downloads)."""
    info, root = DATASETS[dataset], resolved_data_root(data_root)
    missing = [remote.relative_path for remote in info.files.values() if not (root / remote.relative_path).is_file()]
    if not missing:
        return None
    return (f"{', '.join(missing)} missing under {root}, and the report never downloads; point 'deepsad report "
            f"--data-root' at the folder that holds {dataset}, or download it there with 'deepsad run' or "
            f"'deepsad sweep' and the same --data-root")


def _learns_from_labels(frame: pd.DataFrame) -> pd.Series:
    """Whether each run's method can learn from labeled anomalies: every method but those that
    ignore labels (``Method.ignores_labels``); a method name this version does not know counts
    as learning from them."""
    return ~frame["method"].map(lambda name: name in METHODS and METHODS[name].ignores_labels).astype(bool)


def novelty_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, method (a line of ``line_labels``: runs with other parameters, such as η,
    apart) and scenario setting (``SETTING_COLUMNS``), over the runs of ``frame`` of a method
    that learns from labels and with ``auroc_known`` or ``auroc_novel``: those columns, then the
    mean and std (``"<metric> mean"``, ``"<metric> std"``, in %) and the number of values
    (``"<metric> n"``) of each of ``NOVELTY_METRICS``, and the number of ``runs``. Empty where
    no run has them."""
    measured = frame[frame[list(NOVELTY_COLUMNS)].notna().any(axis=1) & _learns_from_labels(frame)]
    keys = ["dataset", "method", *SETTING_COLUMNS]
    stats = [f"{metric} {stat}" for metric in NOVELTY_METRICS for stat in ("mean", "std", "n")]
    if measured.empty:
        return pd.DataFrame(columns=[*keys, *stats, "runs"])
    values = (100 * measured[list(NOVELTY_METRICS)].astype(float)).assign(
        method=line_labels(measured), **{column: measured[column] for column in ("dataset", *SETTING_COLUMNS)}
    )
    groups = values.groupby(keys, sort=True, dropna=False)
    summary = groups[list(NOVELTY_METRICS)].agg(["mean", "std", "count"])
    summary.columns = [f"{metric} {'n' if stat == 'count' else stat}" for metric, stat in summary.columns]
    summary["runs"] = groups.size()
    return summary[[*stats, "runs"]].reset_index()


def novelty_markdown(table: pd.DataFrame, by_class: pd.DataFrame | None = None) -> str:
    """``novelty_table`` as markdown and, given ``by_class`` (``class_table``), each run's AUROC
    against each anomaly class. The scenario settings that vary are columns; the others are
    named once above the tables."""
    varying, fixed = split_settings(table)
    unsupervised = ", ".join(name for name, method in METHODS.items() if method.ignores_labels)
    lines = ["# Known and novel anomaly classes", "",
             "AUROC of the normal test samples against all test anomalies, against those of the classes",
             "the labeled anomalies came from (AUROC known), and against those of the other classes (AUROC",
             "novel), in %, mean ± std over the runs with known classes of a one-vs-rest data set. A method",
             "that learns only what the labeled classes look like scores the novel ones low. '–': no std of",
             "one run, or no novel class (every anomaly class is known); (n=…): fewer runs than the row's",
             "have the value. Runs that differ in a scenario setting or a parameter are in rows of their own.",
             "", "Methods that ignore labels are left out: they never see the labeled anomalies, so no class",
             f"is known to them ({unsupervised})."]
    if fixed:
        lines += ["", f"Every run here has {settings_text(fixed)}."]
    symbols = [SETTING_SYMBOLS[c] for c in varying]
    header = ["dataset", "method", *symbols, *(_HEADERS[m] for m in NOVELTY_METRICS), "runs"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [row["dataset"], row["method"], *(setting_cell(row[c]) for c in varying)]
        cells += [_stat_cell(row, metric) for metric in NOVELTY_METRICS]
        lines.append("| " + " | ".join([*cells, str(int(row["runs"]))]) + " |")
    lines += ["", "## Each anomaly class", ""]
    if by_class is None or by_class.empty:
        lines.append("Each anomaly class's AUROC needs the runs' test scores: report their results store.")
        return "\n".join(lines) + "\n"
    lines += ["AUROC of the normal test samples against the test samples of one anomaly class, in %, per run",
              "whose test scores a results store holds; the known classes' in bold.", ""]
    for dataset, rows in by_class.groupby("dataset", sort=True):
        classes = [c for c in rows.columns if isinstance(c, int) and rows[c].notna().any()]
        names = DATASETS[dataset].classes if dataset in DATASETS else ()
        class_header = [f"{c} {names[c]}" if c < len(names) and names[c] != str(c) else str(c) for c in classes]
        header = ["normal class", "method", *symbols, "seed", *class_header]
        lines += [f"**{dataset}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for _, row in rows.iterrows():
            known = known_classes(row["known_anomaly_classes"])
            cells = [str(int(row["normal_class"])), row["method"], *(setting_cell(row[c]) for c in varying),
                     str(int(row["seed"])), *(_class_cell(row[c], c in known) for c in classes)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def class_table(frame: pd.DataFrame, aurocs: pd.DataFrame) -> pd.DataFrame:
    """The runs of ``frame`` that have ``auroc_known`` or ``auroc_novel`` in ``aurocs``
    (``novelty_aurocs``), in order of dataset, normal class, method (a line of ``line_labels``),
    scenario settings (``SETTING_COLUMNS``) and seed: those columns, ``known_anomaly_classes``
    and each class's AUROC (its number as column name)."""
    measured = aurocs[list(NOVELTY_COLUMNS)].notna().any(axis=1)
    if not measured.any():
        return pd.DataFrame()
    classes = aurocs.loc[measured, [c for c in aurocs.columns if c not in NOVELTY_COLUMNS]]
    runs = frame.loc[measured, ["dataset", "normal_class", *SETTING_COLUMNS, "seed", "known_anomaly_classes"]]
    table = runs.assign(method=line_labels(frame.loc[measured])).join(classes)
    return table.sort_values(["dataset", "normal_class", "method", *SETTING_COLUMNS, "seed"], kind="stable")


def known_classes(value) -> tuple[int, ...]:
    """The known anomaly classes of a frame's ``known_anomaly_classes`` cell ("1,3"; empty or
    missing: none)."""
    if not isinstance(value, str) or not value.strip():
        return ()
    try:
        return tuple(int(part) for part in value.split(","))
    except ValueError:
        raise ValueError(f"known_anomaly_classes must be class numbers separated by commas, such as '1,3'; "
                         f"got {value!r}") from None


def _test_labels(dataset: str, data_root) -> np.ndarray:
    """The classes of the samples a stored outcome's indices point into: the official test
    split, or the rows of a data set split per seed."""
    data = load_dataset(dataset, root=data_root, download=False)
    return np.asarray(data.y_test if DATASETS[dataset].official_split else data.y)


def _auroc(scores: np.ndarray, truth: np.ndarray, anomalies: np.ndarray) -> float:
    """The AUROC of the normal samples against ``anomalies`` (a mask), NaN where either is empty."""
    chosen = ~truth | anomalies
    if not anomalies.any() or not (~truth).any():
        return np.nan
    return float(roc_auc_score(anomalies[chosen], scores[chosen]))


def _stat_cell(row: pd.Series, metric: str) -> str:
    """Mean ± std of ``metric`` in a row of ``novelty_table``: '–' without a value, the number
    of values where fewer runs than the group's have one."""
    n = int(row[f"{metric} n"])
    if n == 0:
        return "–"
    std = row[f"{metric} std"]
    text = f"{row[f'{metric} mean']:.1f} ± {'–' if pd.isna(std) else f'{std:.1f}'}"
    return text if n == row["runs"] else f"{text} (n={n})"


def _class_cell(auroc: float, known: bool) -> str:
    if pd.isna(auroc):
        return ""
    return f"**{100 * auroc:.1f}**" if known else f"{100 * auroc:.1f}"
