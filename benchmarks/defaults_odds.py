"""Accuracy of the deep defaults on ODDS tables (γl = 0.01, γp = 0, stratified 60:40 split).

    python benchmarks/defaults_odds.py --data-root DIR [--seeds 3] ['{"lr": 1e-3}']

DIR holds ODDS/<name>.mat. Training data: the training split's normal samples (unlabeled) plus
labeled anomalies making up 1% of the training set; Deep SVDD gets the normal samples only.
Prints mean ± std test AUROC (%) per data set.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from deepsad import ANOMALY, UNLABELED, DeepSAD, DeepSVDD
from deepsad.data.datasets import load_dataset

DATASETS = ["arrhythmia", "cardio", "satellite", "satimage-2", "shuttle", "thyroid"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="?", default="{}", help="JSON dict of estimator parameters")
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", action="append", choices=DATASETS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)
    params = json.loads(args.overrides)
    for name in args.only or DATASETS:
        data = load_dataset(name, root=args.data_root)
        X, y = data.X, data.y
        aurocs = {"Deep SAD": [], "Deep SVDD": []}
        started = time.perf_counter()
        for seed in range(args.seeds):
            train, test = train_test_split(np.arange(len(X)), test_size=0.4, stratify=y, random_state=seed)
            normal, anomalous = train[y[train] == 0], train[y[train] == 1]
            n_known = min(len(anomalous), int(round(0.01 * len(normal) / 0.99)))
            known = np.random.default_rng(seed).choice(anomalous, n_known, replace=False)
            labels = np.r_[np.full(len(normal), UNLABELED), np.full(n_known, ANOMALY)]
            sad = DeepSAD(random_state=seed, **params).fit(X[np.r_[normal, known]], labels)
            svdd = DeepSVDD(random_state=seed, **params).fit(X[normal])
            aurocs["Deep SAD"].append(roc_auc_score(y[test], sad.anomaly_score(X[test])))
            aurocs["Deep SVDD"].append(roc_auc_score(y[test], svdd.anomaly_score(X[test])))
        summary = "  ".join(f"{m} {100 * np.mean(a):.1f}±{100 * np.std(a):.1f}" for m, a in aurocs.items())
        print(f"{name:<11} {summary}  ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"overrides {params}, {args.seeds} seeds")


if __name__ == "__main__":
    main()
