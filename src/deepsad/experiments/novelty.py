"""How a run ranks the anomaly classes it had labels of against those it never saw.

The Deep SAD paper's claim that a supervised classifier "fails on novel anomaly classes" is a
statement about the test anomalies of the classes that no labeled sample came from. A run's
AUROC mixes them with those of its known classes; here they are apart, per run: the AUROC of
the normal test samples against the known classes' test anomalies (``auroc_known``) and
against the other classes' (``auroc_novel``), and against each anomaly class alone. A
one-vs-rest data set's test classes are read from its files (the stored outcome keeps only the
truth and the indices into the test split).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from deepsad.data.datasets import DATASETS, load_dataset
from deepsad.experiments.record_files import NOVELTY_COLUMNS
from deepsad.experiments.scenarios import line_labels
from deepsad.experiments.stores import ReadableStore

logger = logging.getLogger(__name__)


def novelty_aurocs(
    frame: pd.DataFrame, store: ReadableStore, data_root=None, notify: Callable[[str], None] = logger.warning
) -> pd.DataFrame:
    """Per run of ``frame`` (``results_frame``; same index): the ``NOVELTY_COLUMNS``, then one
    column per class (named by its number) with the AUROC against that anomaly class's test
    samples alone — AUROCs in [0, 1] like ``auroc``. Empty (NaN) for a run without known anomaly
    classes, of a data set that is not one-vs-rest (its one anomaly class is the known one), or
    whose test classes cannot be read: the data set's files are missing from ``data_root``
    (nothing is downloaded), or they do not match the stored truth (another copy of the data) —
    ``notify`` is told which, once per data set; and in a class's column for the run's normal
    class and the classes its data set lacks."""
    most_classes = max((len(DATASETS[name].classes) for name in set(frame["dataset"]) if name in DATASETS), default=0)
    result = pd.DataFrame(np.nan, index=frame.index, columns=[*NOVELTY_COLUMNS, *range(most_classes)], dtype=float)
    known = frame["known_anomaly_classes"].map(known_classes)
    with_known = frame[known.map(len) > 0]
    for dataset, rows in with_known.groupby("dataset", sort=True):
        info = DATASETS.get(dataset)
        if info is None or not info.one_vs_rest:
            continue
        try:
            labels = _test_labels(dataset, data_root)
        except (OSError, ValueError) as error:
            notify(f"left out the known- and novel-class AUROCs of {dataset}: {error}")
            continue
        mismatched = 0
        for index, row in rows.iterrows():
            outcome = store.outcome(row["key"])
            indices = np.asarray(outcome.indices)
            if indices.max(initial=-1) >= len(labels):
                mismatched += 1
                continue
            classes = labels[indices]
            truth = np.asarray(outcome.truth) == 1
            if not np.array_equal(truth, classes != int(row["normal_class"])):
                mismatched += 1
                continue
            is_known = np.isin(classes, known[index])
            scores = np.asarray(outcome.scores)
            result.loc[index, list(NOVELTY_COLUMNS)] = [_auroc(scores, truth, truth & is_known),
                                                        _auroc(scores, truth, truth & ~is_known)]
            for anomaly_class in range(len(info.classes)):
                if anomaly_class != int(row["normal_class"]):
                    result.loc[index, anomaly_class] = _auroc(scores, truth, classes == anomaly_class)
        if mismatched:
            notify(f"left out the known- and novel-class AUROCs of {mismatched} {dataset} run(s): their stored "
                   f"test truth does not match the classes of the {dataset} files found (another copy of the data?)")
    return result


def novelty_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, method (a line of ``line_labels``) and γl, over the runs of ``frame`` that
    have ``auroc_novel``: the mean and std of ``auroc``, ``auroc_known`` and ``auroc_novel`` (in
    %) and the number of runs."""
    measured = frame.dropna(subset=["auroc_novel"])
    values = (100 * measured[["auroc", *NOVELTY_COLUMNS]].astype(float)).assign(
        dataset=measured["dataset"], method=line_labels(measured), ratio_known_anomaly=measured["ratio_known_anomaly"]
    )
    groups = values.groupby(["dataset", "method", "ratio_known_anomaly"], sort=True)
    summary = groups.agg(["mean", "std"])
    summary[("runs", "count")] = groups.size()
    return summary.reset_index()


def novelty_markdown(table: pd.DataFrame, by_class: pd.DataFrame | None = None) -> str:
    """``novelty_table`` as markdown and, given ``by_class`` (``class_table``), each run's AUROC
    against each anomaly class."""
    lines = ["# Known and novel anomaly classes", "",
             "AUROC of the normal test samples against all test anomalies, against those of the classes",
             "the labeled anomalies came from (known), and against those of the other classes (novel),",
             "in %, mean ± std over the runs with known classes of a one-vs-rest data set. A method that",
             "learns only what the labeled classes look like scores the novel ones low.", "",
             "| dataset | method | γl | AUROC | known classes | novel classes | runs |", "|---|---|---|---|---|---|---|"]
    for row in table.itertuples(index=False):
        dataset, method, gamma = row[:3]
        auroc, known, novel = (row[3 + 2 * i: 5 + 2 * i] for i in range(3))
        lines.append(f"| {dataset} | {method} | {gamma:g} | {_mean_std(*auroc)} | {_mean_std(*known)} | "
                     f"{_mean_std(*novel)} | {int(row[9])} |")
    lines += ["", "## Each anomaly class", ""]
    if by_class is None or by_class.empty:
        lines.append("Each anomaly class's AUROC needs the runs' test scores: report their results store.")
        return "\n".join(lines) + "\n"
    lines += ["AUROC of the normal test samples against the test samples of one anomaly class, in %, per run",
              "whose test scores a results store holds; the known classes' in bold.", ""]
    for dataset, rows in by_class.groupby("dataset", sort=True):
        classes = [c for c in rows.columns if isinstance(c, int) and rows[c].notna().any()]
        names = DATASETS[dataset].classes if dataset in DATASETS else ()
        header = [f"{c} {names[c]}" if c < len(names) and names[c] != str(c) else str(c) for c in classes]
        lines += [f"**{dataset}**", "", "| normal class | method | γl | seed | " + " | ".join(header) + " |",
                  "|" + "---|" * (4 + len(classes))]
        for _, row in rows.iterrows():
            known = known_classes(row["known_anomaly_classes"])
            cells = [_class_cell(row[c], c in known) for c in classes]
            lines.append(f"| {int(row['normal_class'])} | {row['method']} | {row['ratio_known_anomaly']:g} | "
                         f"{int(row['seed'])} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def class_table(frame: pd.DataFrame, aurocs: pd.DataFrame) -> pd.DataFrame:
    """The runs of ``frame`` that have ``auroc_novel`` in ``aurocs`` (``novelty_aurocs``), in
    order of dataset, normal class, method (a line of ``line_labels``), γl and seed: those
    columns, ``known_anomaly_classes`` and each class's AUROC (its number as column name)."""
    measured = aurocs["auroc_novel"].notna()
    if not measured.any():
        return pd.DataFrame()
    classes = aurocs.loc[measured, [c for c in aurocs.columns if c not in NOVELTY_COLUMNS]]
    runs = frame.loc[measured, ["dataset", "normal_class", "ratio_known_anomaly", "seed", "known_anomaly_classes"]]
    table = runs.assign(method=line_labels(frame.loc[measured])).join(classes)
    return table.sort_values(["dataset", "normal_class", "method", "ratio_known_anomaly", "seed"], kind="stable")


def known_classes(value) -> tuple[int, ...]:
    """The known anomaly classes of a frame's ``known_anomaly_classes`` cell ("1,3"; empty or
    missing: none)."""
    if not isinstance(value, str) or not value.strip():
        return ()
    return tuple(int(part) for part in value.split(","))


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


def _class_cell(auroc: float, known: bool) -> str:
    if pd.isna(auroc):
        return ""
    return f"**{100 * auroc:.1f}**" if known else f"{100 * auroc:.1f}"


def _mean_std(mean: float, std: float) -> str:
    return f"{mean:.1f} ± {'–' if np.isnan(std) else f'{std:.1f}'}"
