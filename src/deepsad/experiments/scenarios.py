"""The numbers of the paper's scenario curves: a metric against γl, γp or kl, one line per
method, beside the paper's values, with a paired test between the two best methods.

The paper reports a point as the mean ± std over its *experiments*: the pairs of a normal class
and known anomaly class(es) (scenario (i): 10 normal classes × 9 known classes = 90), not over
seeds. Here a point is computed the same way — each experiment's metric first averaged over its
seeds, then mean ± std (ddof=1) over the experiments — and the seed-to-seed spread is reported
apart (the mean over experiments of the std over their seeds). Where a point has one experiment
only (the ODDS sets: no classes), its std is over seeds.

The γl = 0 runs have no known anomaly class, so the sweep records kl = 0 for them; on the γl
axis they belong to the curve of every kl.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import friedmanchisquare, wilcoxon

from deepsad.experiments.paper_values import paper_value

SETTING_AXES = {
    "ratio_known_anomaly": "γl: ratio of labeled anomalies",
    "ratio_pollution": "γp: pollution ratio",
    "n_known_classes": "kl: number of known anomaly classes",
}
SETTING_COLUMNS = ("ratio_known_normal", *SETTING_AXES)
"""The scenario settings; a curve shows one combination of those it does not vary."""
EXPERIMENT_COLUMNS = ("normal_class", "known_anomaly_classes")
"""What tells the experiments of one point apart (their seeds are averaged)."""
SIGNIFICANCE_LEVEL = 0.05
SETTING_SYMBOLS = {
    "ratio_known_normal": "known normals",
    "ratio_known_anomaly": "γl",
    "ratio_pollution": "γp",
    "n_known_classes": "kl",
}


@dataclass(frozen=True)
class Curves:
    """The points of one figure: ``axis`` varies, the other ``settings`` are fixed.

    ``points`` has one row per dataset, line and value of ``axis``: ``mean``, ``std`` (over
    experiments, or over seeds where there is one experiment), ``experiments``, ``runs``,
    ``seed_std`` (mean over experiments of the std over seeds; NaN with one seed each), and
    the paper's ``paper_mean``/``paper_std`` where the paper printed them. ``tests`` has one
    row per dataset and value of ``axis`` where at least two lines share experiments: the two
    lines with the best means, the number of paired experiments and the p-value of the
    two-sided Wilcoxon signed-rank test on their paired differences. ``effects`` has one row
    per dataset and line: whether ``axis`` changes the line at all (``axis_effects``).
    """

    axis: str
    settings: dict
    points: pd.DataFrame
    tests: pd.DataFrame
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)


def line_labels(frame: pd.DataFrame) -> pd.Series:
    """The method, followed by what tells its runs apart where one method ran several ways on
    one dataset: the parameters that vary (e.g. ``deepsad eta=0.1``), the selection protocol
    and the preprocessing — runs that differ in any of them are never averaged into one line."""
    labels = frame["method"].copy()
    for _, group in frame.groupby(["dataset", "method"]):
        parts = [[] for _ in range(len(group))]
        if group["params"].nunique() > 1:
            params = group["params"].map(json.loads)
            keys = sorted({key for p in params for key in p})
            varying = [k for k in keys if len({json.dumps(p.get(k), sort_keys=True) for p in params}) > 1]
            for part, p in zip(parts, params):
                part.extend(f"{k}={json.dumps(p.get(k))}" for k in varying)
        for column in ("selection", "preprocessing"):
            if column not in group:
                continue
            values = group[column].fillna("none")
            if values.nunique() > 1:
                for part, value in zip(parts, values):
                    part.append(f"{column}={value}")
        if any(parts):
            labels[group.index] = [" ".join([group["method"].iloc[0], *part]) for part in parts]
    return labels


def scenario_curves(frame: pd.DataFrame, metric: str = "auroc") -> Iterator[Curves]:
    """The curves of every setting that takes at least two values on some dataset, one
    ``Curves`` per combination of the other settings, in a stable order."""
    frame = frame.assign(line=line_labels(frame))
    for axis in SETTING_AXES:
        on_axis = _with_unlabeled_points(frame, axis)
        fixed = [c for c in SETTING_COLUMNS if c != axis]
        parts = [
            (dict(zip(fixed, values)), part[part.groupby("dataset")[axis].transform("nunique") >= 2])
            for values, part in on_axis.groupby(fixed, sort=True)
        ]
        for settings, part in parts:
            if not part.empty:
                yield Curves(axis, settings, _points(part, axis, metric, settings), _tests(part, axis, metric),
                             axis_effects(part, axis, metric))


def parameter_curves(frame: pd.DataFrame, metric: str = "auroc") -> Iterator[Curves]:
    """The curves of every numeric estimator parameter that takes at least two values for one
    method on one dataset (the paper's η sensitivity), at fixed scenario settings; the axis is
    the parameter's name, a line is the method with its other varying parameters."""
    params = frame["params"].map(json.loads)
    keys = sorted({key for p in params for key in p} - set(frame.columns))
    for key in keys:
        values = params.map(lambda p, key=key: p.get(key))
        numeric = values.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
        if numeric.sum() == 0:
            continue
        part = frame[numeric].assign(**{key: values[numeric].astype(float)})
        others = params[numeric].map(lambda p, key=key: json.dumps({k: v for k, v in p.items() if k != key},
                                                                   sort_keys=True))
        part = part.assign(params=others)
        part = part.assign(line=line_labels(part))
        varies = part.groupby(["dataset", "line"])[key].transform("nunique") >= 2
        part = part[varies]
        for values_fixed, fixed in part.groupby(list(SETTING_COLUMNS), sort=True):
            settings = dict(zip(SETTING_COLUMNS, values_fixed))
            yield Curves(key, settings, _points(fixed, key, metric, settings), _tests(fixed, key, metric),
                         axis_effects(fixed, key, metric))


def _with_unlabeled_points(frame: pd.DataFrame, axis: str) -> pd.DataFrame:
    """On the γl axis, the γl = 0 runs (recorded with kl = 0: they have no known class) join
    the curve of every kl that the runs with labeled anomalies have."""
    if axis != "ratio_known_anomaly":
        return frame
    unlabeled = frame["ratio_known_anomaly"] == 0
    kls = sorted(frame.loc[~unlabeled, "n_known_classes"].unique())
    if not unlabeled.any() or not kls:
        return frame
    copies = [frame[unlabeled].assign(n_known_classes=kl) for kl in kls]
    return pd.concat([frame[~unlabeled], *copies], ignore_index=True)


def _experiment_means(frame: pd.DataFrame, axis: str, metric: str) -> pd.DataFrame:
    """One row per dataset, line, axis value and experiment: the metric's mean, std and
    number of runs over seeds, and ``experiment``, a key naming the experiment."""
    keys = ["dataset", "line", axis, *EXPERIMENT_COLUMNS]
    means = frame.groupby(keys, dropna=False, sort=True)[metric].agg(["mean", "std", "count"]).reset_index()
    means["experiment"] = [
        "/".join(map(str, values)) for values in means[list(EXPERIMENT_COLUMNS)].itertuples(index=False)
    ]
    return means


def _wilcoxon_p(differences) -> float:
    """The two-sided Wilcoxon signed-rank p-value of paired differences; NaN where there is
    nothing to test (fewer than two pairs, or no difference at all)."""
    if len(differences) < 2 or not (np.asarray(differences) != 0).any():
        return np.nan
    return float(wilcoxon(differences, alternative="two-sided", zero_method="wilcox").pvalue)


def _points(frame: pd.DataFrame, axis: str, metric: str, settings: dict) -> pd.DataFrame:
    experiments = _experiment_means(frame, axis, metric)
    rows = []
    for (dataset, line, value), group in experiments.groupby(["dataset", "line", axis], sort=True):
        runs = frame[(frame["dataset"] == dataset) & (frame["line"] == line) & (frame[axis] == value)]
        if len(group) > 1:
            mean, std = group["mean"].mean(), group["mean"].std(ddof=1)
        else:
            mean, std = runs[metric].mean(), runs[metric].std(ddof=1)
        seed_std = group["std"].dropna()
        # The paper's values are for its default parameters: beside the scenario axes only.
        paper = paper_value(dataset, line, {**settings, axis: value}) if metric == "auroc" and axis in SETTING_AXES else None
        rows.append(
            {
                "dataset": dataset,
                "line": line,
                axis: value,
                "mean": 100 * mean,
                "std": 100 * std,
                "experiments": len(group),
                "runs": len(runs),
                "seed_std": 100 * seed_std.mean() if len(seed_std) else np.nan,
                "paper_mean": paper[0] if paper else np.nan,
                "paper_std": paper[1] if paper else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _tests(frame: pd.DataFrame, axis: str, metric: str) -> pd.DataFrame:
    """Per dataset and axis value: the two-sided Wilcoxon signed-rank test between the two
    lines with the highest means, paired over the experiments both ran (seed-averaged)."""
    experiments = _experiment_means(frame, axis, metric)
    rows = []
    for (dataset, value), group in experiments.groupby(["dataset", axis], sort=True):
        means = group.groupby("line")["mean"].mean().sort_values(ascending=False)
        if len(means) < 2:
            continue
        best, second = means.index[:2]
        paired = group.pivot_table(index="experiment", columns="line", values="mean")[[best, second]].dropna()
        differences = paired[best] - paired[second]
        p_value = _wilcoxon_p(differences)
        rows.append(
            {
                "dataset": dataset,
                axis: value,
                "best": best,
                "second": second,
                "pairs": len(differences),
                "p_value": p_value,
                "significant": bool(p_value < SIGNIFICANCE_LEVEL),
            }
        )
    return pd.DataFrame(rows)


def axis_effects(frame: pd.DataFrame, axis: str, metric: str) -> pd.DataFrame:
    """Per dataset and line with at least two values of ``axis``: does the axis change the
    metric at all? The paper's claims of this kind ("η barely matters", "more known classes
    help") are about one method across the axis, which the best-two test does not answer.

    The test is paired over blocks that ran at every value of the axis: the experiments
    (normal class × known classes, seeds averaged) where the same ones ran at every value, as
    on the η axis; otherwise the normal classes, each the mean of its experiments — on the kl
    axis the known classes differ with kl by design, on the γl axis γl = 0 has none. With
    three or more values the Friedman test, with two the Wilcoxon signed-rank test, both
    two-sided. ``spread`` is the largest minus the smallest mean over the blocks, in points.
    """
    experiments = _experiment_means(frame, axis, metric)
    experiments["normal"] = experiments["normal_class"].astype(str)
    rows = []
    for (dataset, line), group in experiments.groupby(["dataset", "line"], sort=True):
        if group[axis].nunique() < 2:
            continue
        by_experiment = group.pivot_table(index="experiment", columns=axis, values="mean").dropna()
        by_normal = group.pivot_table(index="normal", columns=axis, values="mean", aggfunc="mean").dropna()
        blocks, table = ("experiments", by_experiment) if len(by_experiment) >= len(by_normal) \
            else ("normal classes", by_normal)
        columns = [table[value].to_numpy() for value in table.columns]
        if len(columns) == 2:
            p_value = _wilcoxon_p(columns[0] - columns[1])
        elif len(table) >= 2 and np.ptp(table.to_numpy(), axis=1).any():  # all ties: nothing to rank
            p_value = float(friedmanchisquare(*columns).pvalue)
        else:
            p_value = np.nan
        means = 100 * table.mean() if len(table) else pd.Series(dtype=float)
        rows.append(
            {
                "dataset": dataset,
                "line": line,
                "values": len(table.columns),
                "blocks": len(table),
                "paired_over": blocks,
                "test": "Friedman" if len(table.columns) >= 3 else "Wilcoxon signed-rank",
                "p_value": p_value,
                "spread": float(means.max() - means.min()) if len(means) else np.nan,
                "lowest_at": means.idxmin() if len(means) else np.nan,
                "highest_at": means.idxmax() if len(means) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def settings_text(settings: dict) -> str:
    return ", ".join(f"{SETTING_SYMBOLS[c]} = {v:g}" for c, v in settings.items())


def split_settings(table: pd.DataFrame) -> tuple[list[str], dict]:
    """The ``SETTING_COLUMNS`` that vary over the rows of ``table`` (a table shows them as
    columns), and the value of each of the others (named once above it; missing ones left out)."""
    varying = [c for c in SETTING_COLUMNS if table[c].nunique(dropna=False) > 1]
    fixed = {c: table[c].iloc[0] for c in SETTING_COLUMNS
             if c not in varying and len(table) and pd.notna(table[c].iloc[0])}
    return varying, fixed


def setting_cell(value) -> str:
    """A scenario setting in a table cell: empty where it is missing."""
    return "" if pd.isna(value) else f"{value:g}"


def scenarios_markdown(all_curves: list[Curves], metric: str = "auroc") -> str:
    """``curves_markdown`` of every curve under one heading, with how to read the tables."""
    intro = [
        f"# {metric.upper()} against the scenario settings",
        "",
        "A point is the mean ± std (ddof=1) over its experiments (normal class × known anomaly classes),",
        "each experiment's runs averaged over seeds first, as in the Deep SAD paper; with one experiment",
        "per point the std is over seeds. The last column compares the two lines with the best means by the",
        f"two-sided Wilcoxon signed-rank test, paired over the experiments both ran (α = {SIGNIFICANCE_LEVEL}).",
        "Below each table, whether the varied setting changes a line at all: the Friedman test (two values:",
        "Wilcoxon) over the experiments, or the normal classes where the experiments differ between values.",
        "",
    ]
    return "\n".join(intro + [curves_markdown(curves, metric) for curves in all_curves])


def all_curves(frame: pd.DataFrame, metric: str = "auroc") -> list[Curves]:
    """``scenario_curves`` then ``parameter_curves``."""
    return [*scenario_curves(frame, metric), *parameter_curves(frame, metric)]


def curves_markdown(curves: Curves, metric: str = "auroc") -> str:
    """A table per dataset: rows the axis values, columns the lines, cells ``ours (paper)``;
    a last column names the better of the two best lines where the paired test finds a
    difference at α = 0.05; then the seed-to-seed spread where there are several seeds."""
    symbol = SETTING_SYMBOLS.get(curves.axis, curves.axis)
    points, tests = curves.points, curves.tests
    blocks = [f"### {symbol} varies; {settings_text(curves.settings)}", ""]
    for dataset, rows in points.groupby("dataset", sort=True):
        lines = sorted(rows["line"].unique())
        most = rows["experiments"].max()
        header = [symbol, *lines, "best two: paired Wilcoxon p"]
        body = []
        for value, at_value in rows.groupby(curves.axis, sort=True):
            cells = [f"{value:g}"]
            for line in lines:
                point = at_value[at_value["line"] == line]
                cells.append(_cell(point.iloc[0], most) if len(point) else "")
            test = tests[(tests["dataset"] == dataset) & (tests[curves.axis] == value)] if len(tests) else tests
            cells.append(_test_cell(test.iloc[0]) if len(test) else "")
            body.append(cells)
        experiments = sorted(rows["experiments"].unique())
        blocks += [
            f"**{dataset}** ({metric.upper()} %, mean ± std over {_count_text(experiments)} "
            f"{'experiment' if experiments == [1] else 'experiments'} per point; "
            "the paper's value in parentheses"
            + (f"; in brackets the number of experiments of a point with fewer than {most})"
               if len(experiments) > 1 else ")"),
            "",
            _table(header, body),
            "",
        ]
        effects = curves.effects[curves.effects["dataset"] == dataset] if len(curves.effects) else curves.effects
        if len(effects):
            blocks += [_effect_line(effect, symbol) for effect in effects.itertuples(index=False)] + [""]
        if rows["seed_std"].notna().any():
            spread = [
                [f"{value:g}", *(_number(at_value.loc[at_value["line"] == line, "seed_std"]) for line in lines)]
                for value, at_value in rows.groupby(curves.axis, sort=True)
            ]
            blocks += [
                f"Seed-to-seed std on {dataset} (mean over experiments of the std over their seeds):",
                "",
                _table([symbol, *lines], spread),
                "",
            ]
    return "\n".join(blocks)


def _cell(point, most: int) -> str:
    """Mean ± std, the paper's value in parentheses, and the number of experiments in brackets
    where it is below ``most`` (the table's largest): a mean over fewer is no like for like."""
    std = "–" if pd.isna(point["std"]) else f"{point['std']:.1f}"
    text = f"{point['mean']:.1f} ± {std}"
    if not pd.isna(point["paper_mean"]):
        text += f" ({point['paper_mean']:.1f} ± {point['paper_std']:.1f})"
    if point["experiments"] < most:
        text += f" [{_experiments_text(point['experiments'])}]"
    return text


def _experiments_text(count: int) -> str:
    return f"{count} experiment" + ("" if count == 1 else "s")


def _effect_line(effect, symbol: str) -> str:
    blocks = effect.paired_over if effect.blocks != 1 else {"experiments": "experiment"}.get(
        effect.paired_over, "normal class")
    where = f"{effect.test} test over {effect.blocks} {blocks} paired across {effect.values} values of {symbol}"
    if pd.isna(effect.p_value):
        return f"Does {symbol} change {effect.line}? Not testable: {where}."
    verdict = "yes" if effect.p_value < SIGNIFICANCE_LEVEL else "no significant change"
    return (f"Does {symbol} change {effect.line}? {verdict}: {where}, p = {effect.p_value:.2g}; the means "
            f"span {effect.spread:.1f} points (lowest at {symbol} = {effect.lowest_at:g}, highest at "
            f"{effect.highest_at:g}).")


MIN_PAIRS_FOR_SIGNIFICANCE = 6
"""With fewer pairs, no two-sided Wilcoxon signed-rank p-value reaches 0.05 (5 pairs: 0.0625)."""


def _test_cell(test) -> str:
    if pd.isna(test["p_value"]):
        return f"{test['best']} vs {test['second']}: – ({test['pairs']} pairs)"
    if test["pairs"] < MIN_PAIRS_FOR_SIGNIFICANCE:
        return (f"too few pairs to test: {test['best']} vs {test['second']}, p = {test['p_value']:.2g} "
                f"({test['pairs']} pairs)")
    verdict = f"**{test['best']}** better" if test["significant"] else "not significant"
    return f"{verdict}: {test['best']} vs {test['second']}, p = {test['p_value']:.2g} ({test['pairs']} pairs)"


def _number(values: pd.Series) -> str:
    return "" if values.empty or values.isna().all() else f"{values.iloc[0]:.1f}"


def _count_text(counts: list) -> str:
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
