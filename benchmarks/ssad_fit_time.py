"""Time SSAD's fit at the sizes of the paper's experiments.

Two kinds of training set, both fitted with the paper's setting κ = η_u = η_l = 1:

- ``--data-root`` given: a real one built by the experiment runner, by default an MNIST
  one-vs-rest set (normal class 1, γl = 0.05: 6742 normals and 355 labeled anomalies of one
  known class, n = 7097) or any other dataset (``--dataset shuttle``: n = 27 627);
- otherwise random data of n samples × d features in [0, 1] with 1% labeled samples (half
  known normals, half known anomalies shifted by +0.3). In high dimensions nearly every
  random sample is a support vector, the worst case for the working-set solver.

For each γ it prints the fit time, the final working-set size, the number of support
vectors and the peak memory of this process so far.

    python benchmarks/ssad_fit_time.py --data-root DIR                      # MNIST, n = 7097
    python benchmarks/ssad_fit_time.py --data-root DIR --dataset shuttle --ratio-labeled 0.01
    python benchmarks/ssad_fit_time.py --n 7000 --gamma scale               # random data
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np

from deepsad.baselines import SSAD
from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import build_task


def random_data(n_samples: int, n_features: int, ratio_labeled: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, n_features), dtype=np.float32)
    labels = np.zeros(n_samples, dtype=np.int8)
    labeled = rng.choice(n_samples, int(round(ratio_labeled * n_samples)), replace=False)
    half = len(labeled) // 2
    labels[labeled[:half]] = 1
    labels[labeled[half:]] = -1
    X[labels == -1] += 0.3
    return X, labels


def real_data(dataset: str, root: str, normal_class: int, ratio_labeled: float, seed: int):
    is_odds = dataset not in ("mnist", "fashion-mnist", "cifar10")
    experiment = Experiment(
        dataset, "ssad", seed=seed, normal_class=None if is_odds else normal_class,
        known_anomaly_classes=None if is_odds else ((normal_class + 1) % 10,),
        ratio_known_anomaly=ratio_labeled,
    )  # fmt: skip
    task = build_task(experiment, root=root, download=False)
    return task.X_train, task.y_train


def gamma_value(text: str):
    return text if text == "scale" else float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", help="dataset folder; without it, random data")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--normal-class", type=int, default=1)
    parser.add_argument("--n", type=int, default=7000, help="random data: training samples")
    parser.add_argument("--d", type=int, default=784, help="random data: features")
    parser.add_argument("--ratio-labeled", type=float, default=None,
                        help="labeled fraction [default: 0.05 for MNIST-like data, 0.01 otherwise]")
    parser.add_argument("--gamma", type=gamma_value, nargs="+", default=[2.0**-7, 2.0**-5, 2.0**-3],
                        help="kernel widths to time [default: 2^-7 2^-5 2^-3, part of the paper's grid]")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    if args.data_root:
        ratio = args.ratio_labeled if args.ratio_labeled is not None else (0.01 if args.dataset not in ("mnist", "fashion-mnist", "cifar10") else 0.05)
        X, labels = real_data(args.dataset, args.data_root, args.normal_class, ratio, args.seed)
        source = f"{args.dataset} (labeled fraction {ratio})"
    else:
        X, labels = random_data(args.n, args.d, args.ratio_labeled or 0.01, args.seed)
        source = "random data"
    print(f"SSAD fit on {source}: n={len(X)} d={int(np.prod(X.shape[1:]))} "
          f"labeled anomalies={int((labels == -1).sum())} labeled normals={int((labels == 1).sum())}")
    print("| gamma | fit s | working set | support vectors | peak memory GiB |\n|---|---|---|---|---|")
    for gamma in args.gamma:
        start = time.perf_counter()
        model = SSAD(gamma=gamma).fit(X, labels)
        seconds = time.perf_counter() - start
        peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"| {gamma if gamma == 'scale' else f'{gamma:g}'} | {seconds:.1f} | {model.working_set_size_} | "
              f"{len(model.support_)} | {peak_gib:.2f} |", flush=True)


if __name__ == "__main__":
    main()
