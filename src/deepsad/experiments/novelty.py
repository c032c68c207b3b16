"""How a run ranks the anomaly classes it had labels of against those it never saw.

The Deep SAD paper's claim that a supervised classifier "fails on novel anomaly classes" is a
statement about the test anomalies of the classes that no labeled sample came from. A run's
AUROC mixes them with those of its known classes; here they are apart, per run: the AUROC of
the normal test samples against the known classes' test anomalies (``auroc_known``) and
against the other classes' (``auroc_novel``). A one-vs-rest data set's test classes are read
from its files (the stored outcome keeps only the truth and the indices into the test split).
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
    """Per run of ``frame`` (``results_frame``; same index): the ``NOVELTY_COLUMNS``, AUROCs in
    [0, 1] like ``auroc``. Empty (NaN) for a run without known anomaly classes, of a data set
    that is not one-vs-rest (its one anomaly class is the known one), or whose test classes
    cannot be read: the data set's files are missing from ``data_root`` (nothing is
    downloaded), or they do not match the stored truth (another copy of the data) —
    ``notify`` is told which, once per data set."""
    result = pd.DataFrame(np.nan, index=frame.index, columns=list(NOVELTY_COLUMNS), dtype=float)
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
            result.loc[index] = [_auroc(scores, truth, truth & is_known), _auroc(scores, truth, truth & ~is_known)]
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


def novelty_markdown(table: pd.DataFrame) -> str:
    """``novelty_table`` as markdown."""
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
    return "\n".join(lines) + "\n"


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


def _mean_std(mean: float, std: float) -> str:
    return f"{mean:.1f} ± {'–' if np.isnan(std) else f'{std:.1f}'}"
