"""The two ODDS baseline tables of docs/results.md §3, beside the paper's numbers, from the
per-run records of ``deepsad report`` (its ``records.csv``).

Several record files may be given (e.g. a sweep's report and the committed per-run records of
earlier runs, docs/runs/); a run that appears in more than one (same key) counts once. Each
cell is the mean ± std (n − 1) of the test AUROC in percent over its seeds, marked "(n=k)" when
it has fewer than ``--seeds`` runs.

    deepsad report results/odds_baselines.sqlite --group-by dataset,method,selection --no-plots --output-dir report
    python benchmarks/odds_baselines_table.py report/records.csv [docs/runs/odds_baselines_shuttle.csv]
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict

import numpy as np

DATASETS = ("arrhythmia", "cardio", "satellite", "satimage-2", "shuttle", "thyroid")

# Ruff et al. (ICLR 2020), Table 3, γl = 0.01: mean ± std AUROC in %, in the order of DATASETS.
PAPER = {
    "ocsvm": ("84.5 ± 3.9", "98.5 ± 0.3", "95.1 ± 0.2", "99.4 ± 0.8", "99.4 ± 0.9", "98.3 ± 0.9"),
    "ssad": ("86.7 ± 4.0", "98.8 ± 0.3", "96.2 ± 0.3", "99.9 ± 0.1", "99.6 ± 0.5", "97.9 ± 1.9"),
    "supervised": ("39.2 ± 9.5", "83.2 ± 9.6", "87.2 ± 2.1", "99.9 ± 0.1", "95.1 ± 8.0", "97.8 ± 2.6"),
}

MAIN_COLUMNS = (
    ("OC-SVM paper-sel.", ("ocsvm", "paper")),
    ("OC-SVM honest", ("ocsvm", "honest")),
    ("OC-SVM (paper)", "ocsvm"),
    ("SSAD paper-sel.", ("ssad", "paper")),
    ("SSAD honest", ("ssad", "honest")),
    ("SSAD (paper)", "ssad"),
    ("supervised", ("supervised", "")),
    ("supervised (paper)", "supervised"),
)
OTHER_COLUMNS = (
    ("iForest", ("iforest", "")),
    ("KDE", ("kde", "")),
    ("AE", ("ae", "")),
    ("SS-DGM", ("ssdgm", "")),
    ("hyb. OC-SVM paper-sel.", ("hybrid-ocsvm", "paper")),
    ("hyb. OC-SVM honest", ("hybrid-ocsvm", "honest")),
    ("hyb. SSAD paper-sel.", ("hybrid-ssad", "paper")),
    ("hyb. SSAD honest", ("hybrid-ssad", "honest")),
    ("hyb. iForest", ("hybrid-iforest", "")),
    ("hyb. KDE", ("hybrid-kde", "")),
)


def read_aurocs(paths: list[str]) -> dict[tuple[str, str, str], list[float]]:
    """AUROCs in % by (dataset, method, selection), each run (key) once."""
    runs = {}
    for path in paths:
        with open(path, newline="") as file:
            for row in csv.DictReader(file):
                runs[row["key"]] = ((row["dataset"], row["method"], row["selection"]), float(row["auroc"]) * 100)
    aurocs = defaultdict(list)
    for group, auroc in runs.values():
        aurocs[group].append(auroc)
    return aurocs


def cell(values: list[float], seeds: int) -> str:
    if not values:
        return "–"
    text = f"{np.mean(values):.1f}" + (f" ± {np.std(values, ddof=1):.1f}" if len(values) > 1 else "")
    return text if len(values) >= seeds else f"{text} (n={len(values)})"


def table(columns, aurocs, seeds: int) -> str:
    lines = ["| data | " + " | ".join(name for name, _ in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for index, dataset in enumerate(DATASETS):
        cells = [
            PAPER[source][index] if isinstance(source, str) else cell(aurocs.get((dataset, *source), []), seeds)
            for _, source in columns
        ]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", nargs="+", help="records.csv files written by deepsad report")
    parser.add_argument("--seeds", type=int, default=10, help="runs a complete cell has (default 10)")
    args = parser.parse_args()
    aurocs = read_aurocs(args.records)
    print(table(MAIN_COLUMNS, aurocs, args.seeds))
    print()
    print(table(OTHER_COLUMNS, aurocs, args.seeds))


if __name__ == "__main__":
    main()
