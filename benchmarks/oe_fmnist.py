"""One-vs-rest Fashion-MNIST with Outlier Exposure: FCDD, HSC and Deep SAD on the same split.

    python benchmarks/oe_fmnist.py --data-root DIR [--classes 0 1 ...] [--epochs 30]
        [--auxiliary mnist|cifar10] [--auxiliary-size 10000] [--seed 0] [--records CSV]

Per normal class: training data are the class's 6 000 training images (unlabeled); the
auxiliary anomalies are --auxiliary-size images of another data set — MNIST digits, or
CIFAR-10 converted to grayscale and resized to 28×28 (the thesis used grayscale CIFAR-100 or
EMNIST, which are not here) — drawn into every minibatch as known anomalies (half of it); the
test set is the whole Fashion-MNIST test set (the class normal, the nine others anomalous).
Prints the test AUROC per method and the mean over the classes run, beside the thesis' FCDD
(per class: 0.82, 0.98, 0.84, 0.92, 0.87, 0.90, 0.75, 0.99, 0.86, 0.94; mean 0.89).
With --records, one row per normal class and method (AUROC, fit seconds, settings) is written
to the CSV after every class, so a stopped run keeps what it finished.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

from deepsad import FCDD, HSC, DeepSAD
from deepsad.data.datasets import load_dataset
from deepsad.files import write_atomically

THESIS_FCDD = (0.82, 0.98, 0.84, 0.92, 0.87, 0.90, 0.75, 0.99, 0.86, 0.94)


def auxiliary_images(name: str, root: Path, size: int, rng: np.random.Generator) -> np.ndarray:
    data = load_dataset(name, root=root, download=False)
    chosen = rng.choice(len(data.X_train), size, replace=False)
    images = torch.from_numpy(data.X_train[chosen].astype(np.float32) / 255.0)
    if name == "cifar10":
        gray = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
        images = torch.nn.functional.interpolate(gray, size=(28, 28), mode="bilinear", align_corners=False)
    return images.numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--classes", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--auxiliary", choices=["mnist", "cifar10"], default="mnist")
    parser.add_argument("--auxiliary-size", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--records", type=Path, help="CSV of per-run records, rewritten after every class")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)
    data = load_dataset("fashion-mnist", root=args.data_root, download=False)
    auxiliary = auxiliary_images(args.auxiliary, args.data_root, args.auxiliary_size, np.random.default_rng(args.seed))
    X_test = data.X_test.astype(np.float32) / 255.0
    schedule = dict(epochs=args.epochs, lr=1e-3, lr_milestones=(), random_state=args.seed)
    methods = {
        "FCDD": lambda: FCDD(**schedule),
        "HSC": lambda: HSC(pretrain=False, **schedule),
        "Deep SAD": lambda: DeepSAD(ae_epochs=args.epochs, ae_lr=1e-3, ae_lr_milestones=(), **schedule),
    }
    print(f"Fashion-MNIST one-vs-rest, Outlier Exposure with {args.auxiliary_size} {args.auxiliary} images, "
          f"{args.epochs} epochs, seed {args.seed}\n")
    print("| normal class | " + " | ".join(methods) + " | thesis FCDD | seconds |")
    print("|---|" + "---|" * (len(methods) + 2))
    results = {name: [] for name in methods}
    records = []
    for normal_class in args.classes:
        started = time.perf_counter()
        X_train = data.X_train[data.y_train == normal_class].astype(np.float32) / 255.0
        truth = (data.y_test != normal_class).astype(int)
        for name, make in methods.items():
            fit_started = time.perf_counter()
            model = make().fit(X_train, X_auxiliary=auxiliary)
            results[name].append(roc_auc_score(truth, model.anomaly_score(X_test)))
            records.append(dict(dataset="fashion-mnist", normal_class=normal_class, method=name,
                                auroc=results[name][-1], fit_seconds=round(time.perf_counter() - fit_started, 1),
                                epochs=args.epochs, auxiliary=args.auxiliary, auxiliary_size=args.auxiliary_size,
                                seed=args.seed, thesis_fcdd=THESIS_FCDD[normal_class]))  # fmt: skip
        if args.records:
            write_atomically(args.records, pd.DataFrame(records).to_csv(index=False))
        cells = " | ".join(f"{results[name][-1]:.3f}" for name in methods)
        print(f"| {normal_class} | {cells} | {THESIS_FCDD[normal_class]:.2f} | {time.perf_counter() - started:.0f} |",
              flush=True)
    means = " | ".join(f"{np.mean(results[name]):.3f}" for name in methods)
    thesis = np.mean([THESIS_FCDD[c] for c in args.classes])
    print(f"| mean ({len(args.classes)} classes) | {means} | {thesis:.2f} | |")


if __name__ == "__main__":
    main()
