"""A library fit of a small MLP with torch's default threads against deepsad's choice (one).

Fits ``DeepSAD`` on a 30,000 × 9 table (shuttle's size) with the default number of torch threads
(every core) and with deepsad's automatic choice (one thread for small fully connected networks
on the CPU), in alternating rounds in one process: once on an otherwise idle machine, once next
to a process that keeps one core busy (as a second sweep worker or any other program does).

    python benchmarks/fit_threads.py [--epochs 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from unittest import mock

import numpy as np
import torch

import deepsad.models.deep
from deepsad import DeepSAD
from deepsad.allocator import retain_freed_memory


def busy() -> None:
    while True:
        pass


def seconds_per_fit(X, epochs: int, automatic: bool) -> float:
    estimator = DeepSAD(epochs=epochs, ae_epochs=epochs, random_state=0)
    started = time.perf_counter()
    if automatic:
        estimator.fit(X)
    else:  # torch's own setting, as before deepsad chose
        with mock.patch.object(deepsad.models.deep, "cpu_threads_for", lambda *args: None):
            estimator.fit(X)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    retain_freed_memory()
    X = np.random.default_rng(0).random((30000, 9), dtype=np.float32)
    print(f"{os.cpu_count()} CPUs, torch default threads {torch.get_num_threads()}, {args.epochs} + {args.epochs} epochs\n")
    print("| machine | torch's default threads (s) | deepsad's choice, 1 thread (s) | speed-up |")
    print("|---|---|---|---|")
    for label, competitor in (("idle", False), ("one core busy elsewhere", True)):
        process = multiprocessing.Process(target=busy, daemon=True) if competitor else None
        if process is not None:
            process.start()
        try:
            default, chosen = [], []
            for _ in range(args.repeats):
                default.append(seconds_per_fit(X, args.epochs, automatic=False))
                chosen.append(seconds_per_fit(X, args.epochs, automatic=True))
        finally:
            if process is not None:
                process.terminate()
        a, b = statistics.median(default), statistics.median(chosen)
        print(f"| {label} | {a:.2f} | {b:.2f} | {a / b:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
