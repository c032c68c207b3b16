"""Sweep wall time with and without packing, and whether packing changes any result.

Runs ``deepsad sweep CONFIG`` once per pack size (each into a fresh store, in a subprocess,
one after the other on the same machine), then compares the test AUROC of every experiment
between the runs. Prints a markdown table: wall time per pack size and the mean and largest
absolute AUROC difference to the first pack size.

    python benchmarks/sweep_speed.py configs/odds.toml --data-root <root> --workers 2 --pack-sizes 1 10
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from deepsad.experiments.store import ResultsStore


def run(config: str, store: Path, pack_size: int, args) -> float:
    command = [sys.executable, "-c", "from deepsad.cli import main; main()", "sweep", config, "--store", str(store), "--workers",
               str(args.workers), "--threads", str(args.threads), "--pack-size", str(pack_size), "--no-download"]
    if args.data_root:
        command += ["--data-root", args.data_root]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return time.perf_counter() - started


def aurocs(store: Path) -> dict[str, float]:
    return {r["key"]: r["metrics"]["auroc"] for r in ResultsStore(store, readonly=True).records()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pack-sizes", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        seconds, results = {}, {}
        for size in args.pack_sizes:
            store = Path(folder) / f"pack{size}.sqlite"
            seconds[size] = run(args.config, store, size, args)
            results[size] = aurocs(store)
            print(f"pack size {size}: {seconds[size]:.1f} s, {len(results[size])} results", file=sys.stderr)
    first = args.pack_sizes[0]
    print(f"{args.config}, {args.workers} worker(s) × {args.threads} thread(s), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs\n")
    print("| pack size | experiments | wall time (s) | speed-up | mean abs ΔAUROC (pts) | max abs ΔAUROC (pts) |")
    print("|---|---|---|---|---|---|")
    for size in args.pack_sizes:
        keys = sorted(set(results[size]) & set(results[first]))
        diffs = np.abs([100 * (results[size][k] - results[first][k]) for k in keys])
        print(f"| {size} | {len(results[size])} | {seconds[size]:.0f} | {seconds[first] / seconds[size]:.2f}× | "
              f"{diffs.mean():.3f} | {diffs.max():.3f} |")


if __name__ == "__main__":
    main()
