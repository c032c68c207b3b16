"""Pretraining once per seed: does pretraining on the unlabeled samples change the results, and
what does sharing it save?

Runs a sweep configuration twice, one after the other on the same machine, into fresh stores:
with ``pretrain_on = "all"`` (the paper: each run pretrains on its own training set) and with
``pretrain_on = "unlabeled"`` (the runs of one seed that differ only in their labeled samples
share one pretraining, ``--share-pretraining``). Prints the wall times, and per data set and
labeled fraction the mean test AUROC of both with the mean paired difference.

    python benchmarks/shared_pretraining.py configs/odds.toml --datasets cardio satellite \\
        --ratios 0.01 0.02 0.05 --seeds 10 --data-root <root>
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import yaml

from deepsad.experiments.estimators import accepted_params
from deepsad.experiments.store import ResultsStore


def sweep(config: dict, folder: Path, name: str, args) -> tuple[float, dict]:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    store = folder / f"{name}.sqlite"
    command = [sys.executable, "-c", "from deepsad.cli import main; main()", "sweep", str(path), "--store", str(store),
               "--workers", str(args.workers), "--no-download"]
    if args.data_root:
        command += ["--data-root", args.data_root]
    started = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # failures: left out
                   env={**os.environ, "PYTHONWARNINGS": "ignore"})
    seconds = time.perf_counter() - started
    results = {}
    for record in ResultsStore(store, readonly=True).records():
        e = record["experiment"]
        results[(e["dataset"], e["ratio_known_anomaly"], e.get("normal_class"), e["seed"])] = (
            100 * record["metrics"]["auroc"])
    return seconds, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--datasets", nargs="+", required=True)
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.01, 0.05, 0.1])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=["deepsad"])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--normal-classes", type=int, nargs="+", default=None)
    parser.add_argument("--epochs", type=int, default=None, help="Shorter schedule: epochs of each stage.")
    args = parser.parse_args()
    base = tomllib.loads(Path(args.config).read_text())
    base.update(datasets=args.datasets, methods=args.methods, seeds=args.seeds, ratio_known_anomaly=args.ratios)
    if args.normal_classes is not None:
        base["normal_classes"] = args.normal_classes
    # Settings of the configuration's own methods that the methods compared here lack (objective, nu)
    base["params"] = {key: value for key, value in base.get("params", {}).items()
                      if any(key in accepted_params(method) for method in args.methods)}
    if args.epochs is not None:
        base["params"] = {**base.get("params", {}), "epochs": args.epochs, "ae_epochs": args.epochs,
                          "lr_milestones": [], "ae_lr_milestones": []}
    with tempfile.TemporaryDirectory() as folder:
        runs = {}
        for choice in ("all", "unlabeled"):
            config = {**base, "params": {**base.get("params", {}), "pretrain_on": choice}}
            runs[choice] = sweep(config, Path(folder), choice, args)
            print(f"pretrain_on={choice}: {runs[choice][0]:.1f} s", file=sys.stderr)
    (t_all, all_), (t_unl, unl) = runs["all"], runs["unlabeled"]
    print(f"{args.config}: {args.datasets} × γl {args.ratios} × {args.seeds} seeds × {args.methods}, "
          f"normal classes {args.normal_classes or 'as configured'}, epochs {args.epochs or 'as configured'}, "
          f"{args.workers} workers\n")
    print(f"wall time: pretrain_on = \"all\" {t_all:.0f} s, \"unlabeled\" (shared) {t_unl:.0f} s "
          f"({t_all / t_unl:.2f}×)\n")
    print("| data set | γl | AUROC, all | AUROC, unlabeled | mean paired difference (pts) |")
    print("|---|---|---|---|---|")
    for dataset in args.datasets:
        for ratio in args.ratios:
            keys = sorted(k for k in all_ if k[0] == dataset and k[1] == ratio and k in unl)
            a = np.array([all_[k] for k in keys])
            u = np.array([unl[k] for k in keys])
            print(f"| {dataset} | {ratio} | {a.mean():.1f} ± {a.std():.1f} | {u.mean():.1f} ± {u.std():.1f} | "
                  f"{(u - a).mean():+.2f} ± {(u - a).std():.2f} |")


if __name__ == "__main__":
    main()
