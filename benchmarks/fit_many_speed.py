"""fit_many against K separate fits, per network: where stacking the models pays off.

For each case (a network at a data size) and each K, fits K ``DeepSAD`` models (different seeds
and data) one by one and then together (``fit_many(..., stack=True)``), in alternating rounds in
one process, and reports the median wall time of each side and their ratio. Also the largest
relative difference of the test scores between the two (reduction order only).

    python benchmarks/fit_many_speed.py [--models 5 10] [--repeats 2] [--threads 1] [--device cpu]

On a GPU (``--device cuda``) every fit ends with a device synchronisation before its time is
taken, and the CIFAR-10 LeNet at the paper's batch is added: stacked convolutional networks
are what the sweep packs on a GPU.
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
GPU_CASES = {"cifar10_lenet, 5,000 × 3×32×32": (5000, (3, 32, 32), 2)}


def estimators(count: int, epochs: int, device: str) -> list[DeepSAD]:
    return [DeepSAD(epochs=epochs, ae_epochs=epochs, lr_milestones=(), ae_lr_milestones=(), device=device,
                    random_state=seed) for seed in range(count)]


def synchronized(device: str) -> None:
    """Wait for the device's queued work, so that a GPU fit's time includes it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda[:N]'")
    args = parser.parse_args()
    on_gpu = torch.device(args.device).type == "cuda"
    if on_gpu and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: CUDA is not available here")
    device_name = torch.cuda.get_device_name(torch.device(args.device)) if on_gpu else "CPU"
    torch.set_num_threads(args.threads)
    retain_freed_memory()
    rng = np.random.default_rng(0)
    print(f"{platform.machine()}, torch {torch.__version__}, {args.threads} thread(s), {device_name}\n")
    print("| network, data | models | one by one (s) | together (s) | speed-up | max rel. score diff |")
    print("|---|---|---|---|---|---|")
    for name, (n, shape, epochs) in (CASES | GPU_CASES if on_gpu else CASES).items():
        for count in args.models:
            data = [rng.random((n, *shape), dtype=np.float32) for _ in range(count)]
            labels = [np.r_[np.zeros(n - n // 100), -np.ones(n // 100)] for _ in range(count)]
            alone_times, together_times = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                alone = [e.fit(X, y) for e, X, y in zip(estimators(count, epochs, args.device), data, labels)]
                synchronized(args.device)
                alone_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                together = fit_many(estimators(count, epochs, args.device), data, labels, stack=True)
                synchronized(args.device)
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
