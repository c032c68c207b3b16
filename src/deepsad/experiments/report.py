"""Tables from a results store: one row per experiment, and mean ± std of a metric per group.

``write_report`` is what ``deepsad report`` runs: it writes ``summary.md``, ``summary.csv``,
``records.csv``, ``decisions.md``, ``novelty.md`` (when runs of a method that learns from
labels had known anomaly classes of a one-vs-rest data set, also where every anomaly class was
known; ``deepsad.experiments.novelty``), ``failures.md`` (when experiments failed),
``scenarios.md`` (when a scenario setting varies) and the figures of
``deepsad.experiments.plots``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from deepsad.decisions.conformal import split_conformal_rates
from deepsad.experiments.novelty import class_table, novelty_aurocs, novelty_markdown, novelty_table
from deepsad.experiments.plots import (
    false_alarm_calibration_figures,
    image_grids,
    metric_vs_setting_figures,
    roc_figures,
)
from deepsad.experiments.record_files import (
    DECISION_COLUMNS,
    DEFINITION_COLUMNS,
    FRAME_COLUMNS,
    METRICS,
    NOVELTY_COLUMNS,
    RECORD_COLUMNS,
    is_records_file,
    read_records_file,
)
from deepsad.experiments.scenarios import (
    SETTING_COLUMNS,
    SETTING_SYMBOLS,
    all_curves,
    line_labels,
    scenarios_markdown,
    setting_cell,
    settings_text,
    split_settings,
)
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import FAILED
from deepsad.experiments.stores import ReadableStore, StoreUnion, repeated_paths
from deepsad.files import write_atomically

logger = logging.getLogger(__name__)

def results_frame(store: ReadableStore, keys: Collection[str] | None = None) -> pd.DataFrame:
    """One row per successful experiment with flat columns (``FRAME_COLUMNS``).

    ``known_anomaly_classes`` are the classes the labeled anomalies were drawn from in that run
    (``"1,3"``; ``""`` when none); ``params`` is canonical JSON, so runs that differ only in
    their parameters stay apart; ``normal_class`` is missing (``<NA>``) for ODDS datasets;
    ``selection`` is the protocol that chose the parameters (``""`` when none did);
    ``preprocessing`` is ``""`` for the default. With ``keys``, only the experiments stored
    under these keys.
    """
    rows = [_flat_row(record) for record in store.records(keys)]
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["normal_class"] = frame["normal_class"].astype("Int64")
    return frame


def _flat_row(record: dict) -> dict:
    experiment, metrics = record["experiment"], record["metrics"]
    return {
        "key": record["key"],
        **{column: experiment.get(column) for column in DEFINITION_COLUMNS if column != "params"},
        "known_anomaly_classes": ",".join(str(c) for c in record.get("known_anomaly_classes") or []),
        "selection": experiment.get("selection") or "",
        "preprocessing": experiment.get("preprocessing") or "",
        **{metric: metrics.get(metric, np.nan) for metric in METRICS},
        "threshold": record.get("threshold", np.nan),
        "train_seconds": record.get("seconds", {}).get("train"),
        "test_seconds": record.get("seconds", {}).get("test"),
        "n_train": record.get("sizes", {}).get("train"),
        "n_test": record.get("sizes", {}).get("test"),
        "params": json.dumps(experiment.get("params", {}), sort_keys=True, separators=(",", ":")),
    }


@dataclass(frozen=True, eq=False)
class Summary:
    """Mean, standard deviation (ddof=1) and number of runs of one metric, in percent, per group.

    ``table`` is numeric: the ``rows`` columns, then ``mean``, ``std``, ``n`` — or, with a
    ``pivot``, ``"<value> mean"``, ``"<value> std"``, ``"<value> n"`` for each of the pivot
    column's values (``columns``). ``dropped`` are group columns left out because they are empty
    for every experiment; ``pooled`` are definition columns (with their number of values) that
    vary inside a group, so their runs are averaged together.

    Example
    -------
    >>> summary = summary_table(frame, ["dataset", "method"], pivot="method")  # doctest: +SKIP
    >>> print(summary.to_markdown())  # doctest: +SKIP
    """

    table: pd.DataFrame
    metric: str
    rows: tuple[str, ...]
    pivot: str | None
    columns: tuple[str, ...]
    dropped: tuple[str, ...]
    pooled: tuple[tuple[str, int], ...]

    def to_csv(self) -> str:
        return self.table.to_csv(index=False)

    def to_markdown(self) -> str:
        name = self.metric.upper()
        cells = [[_label(value) for value in row] for row in self.table[list(self.rows)].itertuples(index=False)]
        if self.pivot is None:
            header = [*self.rows, f"{name} (%)", "n"]
            for row, (mean, std, n) in zip(cells, self.table[["mean", "std", "n"]].itertuples(index=False)):
                row += [_mean_std(mean, std), str(int(n))]
            notes = []
        else:
            header = [*self.rows, *self.columns]
            counts = self.table[[f"{c} n" for c in self.columns]].to_numpy()
            uniform = len(np.unique(counts[counts > 0])) == 1
            for row, (_, values) in zip(cells, self.table.iterrows()):
                for column in self.columns:
                    mean, std, n = (values[f"{column} {stat}"] for stat in ("mean", "std", "n"))
                    cell = "" if n == 0 else _mean_std(mean, std)
                    # n goes into the cells only where it varies, to keep the common table short
                    row.append(cell if uniform or not cell else f"{cell} (n={int(n)})")
            notes = [f"n per cell: {counts[counts > 0][0]}."] if uniform else []
        lines = [
            f"{name} in %: mean ± std (ddof=1) over the runs of each group; '–' where a group has one run.",
            "",
            _markdown_table(header, cells),
            "",
            *notes,
        ]
        if self.pooled:
            lines.append("Pooled within each group: " + ", ".join(f"{c} ({k} values)" for c, k in self.pooled) + ".")
        if self.dropped:
            lines.append("Group column(s) empty for every experiment, left out: " + ", ".join(self.dropped) + ".")
        return "\n".join(lines).rstrip() + "\n"


def summary_table(
    frame: pd.DataFrame, group_by: Sequence[str], metric: str = "auroc", pivot: str | None = None
) -> Summary:
    """Group the experiments of ``results_frame`` by ``group_by`` (plus ``pivot``) and summarise
    ``metric`` per group; with ``pivot="method"`` the methods become columns (the paper's ODDS
    table: rows = datasets). Group columns empty for every experiment (``normal_class`` when
    only ODDS sets were run) are dropped; the standard deviation is over all runs of a group —
    over seeds when every other varying definition column is grouped by (see ``Summary.pooled``).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}; got {metric!r}")
    if frame.empty:
        raise ValueError("there are no successful experiments to summarise")
    keys, dropped = _group_keys(frame, list(group_by), pivot)
    rows = tuple(c for c in keys if c != pivot)
    groups = frame.groupby(keys, dropna=False, sort=True)
    stats = 100 * groups[metric].agg(["mean", "std"])
    stats["n"] = groups[metric].count()
    pooled = tuple(
        (c, int(frame[c].nunique()))
        for c in DEFINITION_COLUMNS
        if c not in keys and groups[c].nunique(dropna=False).max() > 1
    )
    if pivot is None:
        return Summary(stats.reset_index(), metric, rows, None, (), dropped, pooled)
    values = sorted(frame[pivot].unique())
    columns = tuple(_label(value) for value in values)
    wide = stats.unstack(pivot).reindex(columns=pd.MultiIndex.from_product([["mean", "std", "n"], values]))
    wide.columns = [f"{_label(value)} {stat}" for stat, value in wide.columns]
    counts = [f"{c} n" for c in columns]
    wide[counts] = wide[counts].fillna(0).astype(int)
    table = wide[[f"{c} {stat}" for c in columns for stat in ("mean", "std", "n")]].reset_index()
    return Summary(table, metric, rows, pivot, columns, dropped, pooled)


def _group_keys(frame: pd.DataFrame, group_by: list[str], pivot: str | None) -> tuple[list[str], tuple[str, ...]]:
    """The columns to group by (``group_by``, then ``pivot``) without those empty for every
    experiment, and those left out."""
    wanted = list(dict.fromkeys(group_by + ([pivot] if pivot is not None else [])))
    unknown = [c for c in wanted if c not in DEFINITION_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column(s) {unknown} to group by; choose from {list(DEFINITION_COLUMNS)}")
    dropped = tuple(c for c in wanted if _is_empty(frame[c]))
    keys = [c for c in wanted if c not in dropped]
    if pivot is not None:
        if frame[pivot].isna().any():
            extent = "every experiment" if pivot in dropped else "some experiments (ODDS sets have no normal class)"
            raise ValueError(f"pivot column {pivot!r} is empty for {extent}")
        if len(keys) < 2:
            raise ValueError(f"pivot {pivot!r} needs another group column for the rows")
    if not keys:
        raise ValueError("group_by must name at least one column that is not empty for every experiment")
    return keys, dropped


def _is_empty(column: pd.Series) -> bool:
    return bool(column.isna().all() or (column.astype(str) == "").all())


def _label(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:g}"
    return str(value).replace("|", "\\|")


def _mean_std(mean: float, std: float) -> str:
    return f"{mean:.1f} ± {'–' if pd.isna(std) else f'{std:.1f}'}"


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


CONFORMAL_ALPHA = 0.05
"""The false-alarm rate whose conformal threshold ``decisions.md`` shows beside the fitted one."""


def decision_rates(frame: pd.DataFrame, store: ReadableStore) -> pd.DataFrame:
    """Per run of ``frame`` (same index): the realised false-alarm rate (on the test set's
    normal samples) and recall (on its anomalies) of its fitted threshold, and of a conformal
    threshold at α = ``CONFORMAL_ALPHA`` calibrated on the normal samples of half of the test
    set (``split_conformal_rates``), in % — what ``predict`` decides, beside the AUROC of the
    scores. ``records.csv`` carries them, so the committed records back the decision numbers."""
    rows = []
    for key, threshold in zip(frame["key"], frame["threshold"], strict=True):
        outcome = store.outcome(key)
        flagged = np.asarray(outcome.scores) > threshold
        truth = np.asarray(outcome.truth) == 1
        (conformal_far,), (conformal_recall,) = split_conformal_rates(outcome.scores, outcome.truth,
                                                                      [CONFORMAL_ALPHA])  # fmt: skip
        rows.append((100 * flagged[~truth].mean() if (~truth).any() else np.nan,
                     100 * flagged[truth].mean() if truth.any() else np.nan,
                     100 * conformal_far, 100 * conformal_recall))  # fmt: skip
    return pd.DataFrame(rows, columns=list(DECISION_COLUMNS), index=frame.index, dtype=float)


def decisions_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, method (a line of ``line_labels``: runs with other parameters, selection or
    preprocessing apart) and scenario setting (``SETTING_COLUMNS``): the mean and std over runs
    of the ``DECISION_COLUMNS`` of ``frame`` (``results_frame`` joined with
    ``decision_rates``), as columns ``"<rate> mean"`` and ``"<rate> std"``, and the number of
    ``runs``."""
    keys = ["dataset", "method", *SETTING_COLUMNS]
    rates = frame[list(DECISION_COLUMNS)].assign(
        method=line_labels(frame), **{column: frame[column] for column in ("dataset", *SETTING_COLUMNS)}
    )
    groups = rates.groupby(keys, sort=True, dropna=False)
    summary = groups[list(DECISION_COLUMNS)].agg(["mean", "std"])
    summary.columns = [f"{rate} {stat}" for rate, stat in summary.columns]
    summary["runs"] = groups.size()  # every run, also one whose test set had no normal sample
    return summary.reset_index()


def decisions_markdown(table: pd.DataFrame, calibration_figures: bool = True) -> str:
    """``decisions_table`` as markdown, the scenario settings that vary as columns and the
    others named once; ``calibration_figures``: whether the report draws the conformal rate at
    every α (it needs test scores, which records files lack)."""
    figures = "figures/false_alarm_calibration_*.png shows the conformal rate at every α; " if calibration_figures else ""
    varying, fixed = split_settings(table)
    lines = ["# Decisions at each run's fitted threshold", "",
             "The rate of test normals flagged (false alarms) and of test anomalies flagged (recall) at the",
             "threshold each model set at fit time (its `contamination`, or its own boundary), and at a",
             f"conformal threshold for a false-alarm rate of α = {CONFORMAL_ALPHA:g} calibrated on the normal samples of",
             "a random half of the test set (measured on the other half; 20 halvings), in %, mean ± std",
             f"over runs. {figures}docs/thresholds.md explains the strategies. Each run's threshold is",
             "the `threshold` column of records.csv (on its own model's score scale).", ""]
    if fixed:
        lines += [f"Every run here has {settings_text(fixed)}.", ""]
    header = ["dataset", "method", *(SETTING_SYMBOLS[c] for c in varying), "false-alarm rate", "recall",
              f"conformal α = {CONFORMAL_ALPHA:g}: false-alarm rate", "conformal recall", "runs"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [row["dataset"], row["method"], *(setting_cell(row[c]) for c in varying)]
        cells += [_mean_std(row[f"{rate} mean"], row[f"{rate} std"]) for rate in DECISION_COLUMNS]
        lines.append("| " + " | ".join([*cells, str(int(row["runs"]))]) + " |")
    return "\n".join(lines) + "\n"


def failures_markdown(failures: list[tuple[dict, str]]) -> str:
    """A markdown list of failed experiments with the first line of each error."""
    lines = [f"# Failed experiments ({len(failures)})", ""]
    for experiment, error in failures:
        lines.append(f"- {_describe(experiment)}: {_first_line(error)}")
    return "\n".join(lines) + "\n"


def _first_line(error: str | None) -> str:
    lines = (error or "").strip().splitlines()
    return lines[0] if lines else "(no error text)"


def _describe(experiment: dict) -> str:
    try:
        return Experiment.from_dict(experiment).describe()
    except (TypeError, ValueError):
        return json.dumps(experiment, sort_keys=True)


def write_report(
    sources: str | Path | Sequence[str | Path],
    output_dir: str | Path,
    group_by: Sequence[str] = ("dataset", "normal_class", "method"),
    metric: str = "auroc",
    pivot: str | None = None,
    plots: bool = True,
    data_root: str | Path | None = None,
    notify: Callable[[str], None] = logger.warning,
    only: Collection[str] | None = None,
) -> list[Path]:
    """Write ``summary.md``, ``summary.csv`` (numeric mean, std, n), ``records.csv`` (the whole
    ``results_frame``, each run's ``decision_rates`` and its ``novelty_aurocs``, whose test
    classes are read from ``data_root``), ``decisions.md``, ``novelty.md`` (only when runs of a
    method that learns from labels had known anomaly classes of a one-vs-rest data set, also
    where every anomaly class was known; ``deepsad.experiments.novelty``), ``failures.md``
    (only when experiments failed; a stale one is removed), ``scenarios.md`` (only when a
    scenario setting varies: the paper's curves as tables beside its values,
    ``deepsad.experiments.scenarios``) and, with ``plots``, the figures under ``figures/`` into
    ``output_dir``, each atomically.

    ``sources`` are results stores and records files (the ``records.csv`` of an earlier report,
    e.g. committed records; ``deepsad.experiments.record_files``), one or several, reported as
    one. An experiment in two of them is read from a store before a records file, else from the
    first named (``StoreUnion``). Records files have no test scores: their runs are in the
    tables and the metric-against-setting figures, not in the ROC, calibration or image figures,
    and their decision rates are those they carry. The sources are only read. Nothing is
    written when a store is missing, empty, not a deepsad store or damaged, a records file is
    malformed, or the arguments are wrong; sources of failures only get their ``failures.md``
    (and the error).
    ``notify`` receives notes such as skipped image grids. ``only``: the keys of the experiments
    to report (e.g. those of one configuration's grid, ``Experiment.key``); the sources' others
    are left out. Returns the paths written.
    """
    only = None if only is None else set(only)
    read = _read_sources(sources, only)
    frame = read.frame
    if only is not None and frame.empty and not read.failures:
        raise ValueError(f"{read.subject} none of the {len(only)} experiment(s) to report")
    if frame.empty:
        detail = ""
        if read.failures:  # what failed is still worth reading
            write_atomically(Path(output_dir) / "failures.md", failures_markdown(read.failures))
            detail = f"; {len(read.failures)} failed (listed in {Path(output_dir) / 'failures.md'}), e.g. " \
                     f"{_first_line(read.failures[0][1])}"
        chosen = "" if only is None else f" among the {len(only)} experiment(s) to report"
        raise ValueError(f"{read.subject} no successful experiments{chosen}{detail}")
    summary = summary_table(frame, group_by, metric, pivot)  # checks the arguments before scores are read
    scored, by_class = read.scored, None
    if read.store is not None:
        aurocs = novelty_aurocs(read.scored, read.store, data_root, notify)
        scored = scored.join(decision_rates(read.scored, read.store)).join(aurocs[list(NOVELTY_COLUMNS)])
        by_class = class_table(read.scored, aurocs)
    frame = _stacked(scored, read.recorded)

    output_dir = Path(output_dir)
    counts = f"{len(frame)} successful experiments" + (
        f", {len(read.failures)} failed (see failures.md)" if read.failures else ""
    ) + (f", {len(read.recorded)} of them from records files" if not read.recorded.empty else "")
    files: dict[str, bytes | str] = {
        "summary.md": f"# {metric.upper()} of {read.title}\n\n{counts}.\n\n{summary.to_markdown()}",
        "summary.csv": summary.to_csv(),
        "records.csv": frame.to_csv(index=False),
    }
    if read.failures:
        files["failures.md"] = failures_markdown(read.failures)
    else:
        (output_dir / "failures.md").unlink(missing_ok=True)
    decided = frame.dropna(subset=list(DECISION_COLUMNS), how="all")
    if decided.empty:  # records files of reports older than the decision rates
        (output_dir / "decisions.md").unlink(missing_ok=True)
    else:
        files["decisions.md"] = decisions_markdown(decisions_table(decided), calibration_figures=plots
                                                   and not scored.empty)
    novelty = novelty_table(frame)
    if novelty.empty:
        (output_dir / "novelty.md").unlink(missing_ok=True)
    else:
        files["novelty.md"] = novelty_markdown(novelty, by_class)
    curves = all_curves(frame, metric)
    if curves:
        files["scenarios.md"] = scenarios_markdown(curves, metric)
    else:
        (output_dir / "scenarios.md").unlink(missing_ok=True)
    repeated = _repeated_definitions(frame)
    if repeated:
        notify(f"{repeated} experiment(s) appear under two or more keys with the same settings (stored by "
               "different deepsad versions, e.g. before a change of defaults); the tables average them together. "
               "Report a store of one version, or remove the older runs (or, from several stores, "
               "the store that holds them)")
    if plots:
        figures = metric_vs_setting_figures(frame, metric)
        if not scored.empty:  # the figures of test scores: only stores hold them
            figures.update({
                **roc_figures(scored, read.store),
                **false_alarm_calibration_figures(scored, read.store),
                **image_grids(scored, read.store, data_root, notify),
            })
        if not read.recorded.empty:
            notify(f"{len(read.recorded)} run(s) from records files have no test scores: they are in the tables and "
                   "the metric figures, not in the ROC, calibration or image figures")
        files.update({f"figures/{name}": png for name, png in figures.items()})
    written = [write_atomically(output_dir / name, payload) for name, payload in files.items()]
    # figures/ is the report's own: a figure of an earlier report that this one did not draw goes
    kept = {path.resolve() for path in written}
    for stale in (output_dir / "figures").glob("*.png"):
        if stale.resolve() not in kept:
            stale.unlink()
    return written


@dataclass(frozen=True, eq=False)
class _Sources:
    """What a report reads from its sources: the stores as one (``None`` without stores), their
    successful runs (``scored``: ``FRAME_COLUMNS``, test scores in the store), the records files'
    runs that no store holds (``recorded``: ``RECORD_COLUMNS``), both as one ``frame``, the
    failures that no source holds as a success, and the sources' names for messages."""

    store: StoreUnion | None
    scored: pd.DataFrame
    recorded: pd.DataFrame
    failures: list[tuple[dict, str]]
    subject: str
    title: str

    @property
    def frame(self) -> pd.DataFrame:
        return _stacked(self.scored, self.recorded)


def _stacked(scored: pd.DataFrame, recorded: pd.DataFrame) -> pd.DataFrame:
    """The stores' runs, then the records files' (``scored`` when both are empty)."""
    parts = [part for part in (scored, recorded) if not part.empty]
    return pd.concat(parts, ignore_index=True) if parts else scored


def _read_sources(sources: str | Path | Sequence[str | Path], only: set[str] | None) -> _Sources:
    """Open the stores of ``sources`` as one and read the records files (all checked before any
    test score is read), keeping the keys of ``only`` when given."""
    paths = [Path(sources)] if isinstance(sources, str | Path) else [Path(source) for source in sources]
    if not paths:
        raise ValueError("no results store or records file given")
    files = [path for path in paths if is_records_file(path)]
    stores = [path for path in paths if path not in files]
    repeated = repeated_paths(files)
    if repeated:
        raise ValueError(f"records file(s) given twice: {repeated}")
    store = StoreUnion(stores) if stores else None
    scored = results_frame(store, keys=only) if store is not None else pd.DataFrame(columns=list(FRAME_COLUMNS))
    held = set(scored["key"])
    recorded = []
    for path in files:
        part = read_records_file(path)
        part = part[~part["key"].isin(held) & (part["key"].isin(only) if only is not None else True)]
        held.update(part["key"])
        recorded.append(part)
    recorded = pd.concat(recorded, ignore_index=True) if recorded else pd.DataFrame(columns=list(RECORD_COLUMNS))
    failures = []
    if store is not None:
        failed = store.keys(status=FAILED) - held
        failures = store.failures(keys=failed if only is None else failed & only)
    names = [path.name for path in paths]
    shown = names if len(set(names)) == len(names) else [str(path) for path in paths]
    kind = "results store" if not files else "records file" if not stores else "source"
    subject = f"{kind}s {' + '.join(map(str, paths))} hold" if len(paths) > 1 else f"{kind} {paths[0]} holds"
    return _Sources(store, scored, recorded, failures, subject, " + ".join(shown))


def _repeated_definitions(frame: pd.DataFrame) -> int:
    definition = [c for c in DEFINITION_COLUMNS if c in frame.columns]
    return int(frame.astype({c: str for c in definition}).duplicated(subset=definition).sum())
