"""fit_many against K separate fits, per network: where stacking the models pays off.

For each case (a network at a data size) and each K, fits K ``DeepSAD`` models (different seeds
and data) one by one and then together (``fit_many(..., stack=True)``), in alternating rounds in
one process, and reports the median wall time of each side and their ratio. Also the largest
relative difference of the test scores between the two (reduction order only).

    python benchmarks/fit_many_speed.py [--models 5 10] [--repeats 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from deepsad import DeepSAD, fit_many
from deepsad.allocator import retain_freed_memory

CASES = {
    # name: (samples, sample shape, epochs per stage); the MLP at cardio's and shuttle's sizes
    "mlp, 1,100 × 21": (1100, (21,), 10),
    "mlp, 29,000 × 9": (29000, (9,), 2),
    "mnist_lenet, 2,000 × 1×28×28": (2000, (1, 28, 28), 1),
}


def estimators(count: int, epochs: int) -> list[DeepSAD]:
    return [DeepSAD(epochs=epochs, ae_epochs=epochs, lr_milestones=(), ae_lr_milestones=(), random_state=seed)
            for seed in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    retain_freed_memory()
    rng = np.random.default_rng(0)
    print(f"{platform.machine()}, torch {torch.__version__}, {args.threads} thread(s)\n")
    print("| network, data | models | one by one (s) | together (s) | speed-up | max rel. score diff |")
    print("|---|---|---|---|---|---|")
    for name, (n, shape, epochs) in CASES.items():
        for count in args.models:
            data = [rng.random((n, *shape), dtype=np.float32) for _ in range(count)]
            labels = [np.r_[np.zeros(n - n // 100), -np.ones(n // 100)] for _ in range(count)]
            alone_times, together_times = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                alone = [e.fit(X, y) for e, X, y in zip(estimators(count, epochs), data, labels)]
                alone_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                together = fit_many(estimators(count, epochs), data, labels, stack=True)
                together_times.append(time.perf_counter() - started)
            difference = max(
                float(np.max(np.abs(a.anomaly_score(X[:500]) - b.anomaly_score(X[:500]))
                             / np.maximum(np.abs(a.anomaly_score(X[:500])), 1e-12)))
                for a, b, X in zip(alone, together, data)
            )
            one, many = statistics.median(alone_times), statistics.median(together_times)
            print(f"| {name} | {count} | {one:.2f} | {many:.2f} | {one / many:.2f}× | {difference:.1e} |", flush=True)


if __name__ == "__main__":
    main()
