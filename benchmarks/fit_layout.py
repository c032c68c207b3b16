"""A LeNet fit on the CPU in the standard (NCHW) memory layout against channels-last.

Fits ``DeepSAD`` (pretraining + main stage) on 6,000 random MNIST-sized images, once with
deepsad's channels-last layout for convolutional networks on the CPU and once without it, in
alternating rounds in one process; reports the median fit time of each and the largest relative
difference of the training scores.

    python benchmarks/fit_layout.py [--epochs 3] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from unittest import mock

import numpy as np
import torch

import deepsad.models.deep
from deepsad import DeepSAD
from deepsad.allocator import retain_freed_memory


def fit(X, epochs: int, channels_last: bool) -> tuple[float, np.ndarray]:
    estimator = DeepSAD(epochs=epochs, ae_epochs=epochs, random_state=0)
    started = time.perf_counter()
    if channels_last:
        estimator.fit(X)
    else:
        with mock.patch.object(deepsad.models.deep, "uses_channels_last", lambda *args: False):
            estimator.fit(X)
    return time.perf_counter() - started, estimator.anomaly_score(X[:500])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    retain_freed_memory()
    X = np.random.default_rng(0).random((6000, 1, 28, 28), dtype=np.float32)
    standard, channels_last = [], []
    for _ in range(args.repeats):
        seconds, reference = fit(X, args.epochs, channels_last=False)
        standard.append(seconds)
        seconds, scores = fit(X, args.epochs, channels_last=True)
        channels_last.append(seconds)
    a, b = statistics.median(standard), statistics.median(channels_last)
    difference = float(np.max(np.abs(scores - reference) / np.abs(reference)))
    print("| threads | epochs per stage | NCHW fit (s) | channels-last fit (s) | speed-up | max rel. score diff |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.threads} | {args.epochs} | {a:.2f} | {b:.2f} | {a / b:.2f}× | {difference:.1e} |")


if __name__ == "__main__":
    main()
