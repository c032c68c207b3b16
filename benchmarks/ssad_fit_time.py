"""Time SSAD's fit at the size of an MNIST one-vs-rest training set.

Random data of n samples × 784 features in [0, 1] with 1% labeled samples (half known
normals, half known anomalies shifted by +0.3), fitted with the paper's setting
κ = η_u = η_l = 1 and gamma="scale". Prints the fit time, the peak memory of this process
and the size of the solution.

    python benchmarks/ssad_fit_time.py              # n = 7000
    python benchmarks/ssad_fit_time.py --n 3000 --repeats 3
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from deepsad.baselines import SSAD


def make_data(n_samples: int, n_features: int, ratio_labeled: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, n_features), dtype=np.float32)
    labels = np.zeros(n_samples, dtype=np.int8)
    labeled = rng.choice(n_samples, int(round(ratio_labeled * n_samples)), replace=False)
    half = len(labeled) // 2
    labels[labeled[:half]] = 1
    labels[labeled[half:]] = -1
    X[labels == -1] += 0.3
    return X, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=7000, help="training samples")
    parser.add_argument("--d", type=int, default=784, help="features")
    parser.add_argument("--ratio-labeled", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X, labels = make_data(args.n, args.d, args.ratio_labeled, args.seed)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model = SSAD().fit(X, labels)
        times.append(time.perf_counter() - start)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"SSAD fit n={args.n} d={args.d} labeled={int((labels != 0).sum())}: "
        f"{min(times):.1f} s (best of {args.repeats}; all: {', '.join(f'{t:.1f}' for t in times)}), "
        f"peak memory {peak_gib:.2f} GiB, {len(model.support_)} support vectors, "
        f"R = {model.radius_:.4f}, margin = {model.margin_:.4f}"
    )


if __name__ == "__main__":
    main()
