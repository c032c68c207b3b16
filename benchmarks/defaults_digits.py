"""Accuracy of the deep defaults on the digits demo task, for one set of estimator overrides.

    python benchmarks/defaults_digits.py '{"lr": 1e-3}' --seeds 2

Prints mean test AUROC (%) over the ten one-vs-rest classes and the seeds, per method.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch

from deepsad.experiments.demo import run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="?", default="{}", help="JSON dict of estimator parameters")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params = json.loads(args.overrides)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        results = run_demo(seeds=range(args.seeds), estimator_params=params)
    for method in ("Deep SVDD", "Deep SAD"):
        per_class = [float(np.mean([r.auroc for r in results if r.method == method and r.normal_class == c])) for c in range(10)]
        aurocs = [r.auroc for r in results if r.method == method]
        print(f"{method:<9} mean {100 * np.mean(aurocs):.1f}  per class {[round(100 * a, 1) for a in per_class]}")
    print(f"overrides {params}, {args.seeds} seeds, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
