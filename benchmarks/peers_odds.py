"""Each library's defaults side by side on the ODDS protocol: deepsad's DeepSAD and DeepSVDD,
DeepOD 0.4.1's DeepSAD, PyOD's DeepSVDD and scikit-learn's IsolationForest.

    python benchmarks/peers_odds.py --data-root DIR [--seeds 5] [--only cardio ...]
        [--deepsad-params '{"lr": 1e-4}'] [--detectors "deepsad DeepSAD" ...] [--records CSV]

The peers are not dependencies of deepsad. DeepOD pins torch < 1.13.1 and PyOD needs numba;
install them without their dependencies, beside torch 2.13, into a folder on PYTHONPATH:

    pip install --no-deps --target PEERS deepod==0.4.1 pyod==3.6.7 numba llvmlite
    PYTHONPATH=PEERS python benchmarks/peers_odds.py --data-root DIR

A peer that cannot be imported is left out and said so.

Protocol (that of the paper's ODDS experiments and benchmarks/defaults_odds.py): per seed a
stratified 60:40 train/test split; the training set is the training split's normal samples,
unlabeled, plus labeled anomalies making up 1% of it (γl = 0.01, γp = 0). Every detector gets
the same raw features and labels (those that cannot use labels ignore them) and runs with its
library's defaults, on the CPU with one torch thread. Prints mean ± std test AUROC (%) and the
mean fit seconds per data set and detector; --records writes one row per fit.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from deepsad import ANOMALY, UNLABELED, DeepSAD, DeepSVDD
from deepsad.data.datasets import load_dataset
from deepsad.files import write_atomically
from deepsad.presets import PAPER

DATASETS = ["arrhythmia", "cardio", "satellite", "satimage-2", "shuttle", "thyroid"]


def detectors(deepsad_params: dict) -> dict[str, Callable]:
    """name → fit(X, labels, seed) returning a function of X that scores (higher = more anomalous).
    ``labels`` follow deepsad's convention (-1 known anomaly, 0 unlabeled)."""

    def ours(estimator):
        def fit(X, labels, seed):
            model = estimator(random_state=seed, device="cpu", **deepsad_params).fit(X, labels)
            return model.anomaly_score

        return fit

    def isolation_forest(X, labels, seed):
        model = IsolationForest(random_state=seed).fit(X)
        return lambda X_test: -model.score_samples(X_test)

    found = {"deepsad DeepSAD": ours(DeepSAD), "deepsad DeepSVDD": ours(DeepSVDD)}
    try:
        from deepod.models.tabular import DeepSAD as DeepODDeepSAD

        def deepod_deepsad(X, labels, seed):
            model = DeepODDeepSAD(device="cpu", verbose=0, random_state=seed)
            model.fit(X.astype(np.float32), (labels == ANOMALY).astype(int))  # DeepOD: 1 = known anomaly
            return lambda X_test: model.decision_function(X_test.astype(np.float32))

        found["DeepOD DeepSAD"] = deepod_deepsad
    except ImportError as error:
        print(f"DeepOD left out: {error}")
    try:
        from pyod.models.deep_svdd import DeepSVDD as PyODDeepSVDD

        def pyod_deepsvdd(X, labels, seed):
            model = PyODDeepSVDD(n_features=X.shape[1], verbose=0, random_state=seed).fit(X)
            return model.decision_function

        found["PyOD DeepSVDD"] = pyod_deepsvdd
    except ImportError as error:
        print(f"PyOD left out: {error}")
    found["sklearn IsolationForest"] = isolation_forest
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", action="append", choices=DATASETS)
    parser.add_argument("--deepsad-params", default="{}", help="JSON dict of parameters for deepsad's estimators")
    parser.add_argument("--detectors", nargs="+", help="run only these (names as in the table's header)")
    parser.add_argument("--paper", action="store_true", help="deepsad's estimators with the paper's schedule "
                        "(deepsad.presets.PAPER) instead of their defaults")
    parser.add_argument("--records", type=Path, help="CSV of per-fit records, rewritten after every data set")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    params = json.loads(args.deepsad_params)
    if args.paper:
        params = {**PAPER, **params}
    found = detectors(params)
    if args.detectors:
        unknown = sorted(set(args.detectors) - set(found))
        if unknown:
            parser.error(f"unknown detectors {unknown}; these ran: {list(found)}")
        found = {name: fit for name, fit in found.items() if name in args.detectors}
    print(f"ODDS, γl = 0.01, {args.seeds} seeds, each library's defaults, one torch thread; "
          f"deepsad parameters {params}\n")
    print("| data | " + " | ".join(found) + " |")
    print("|---|" + "---|" * len(found))
    records = []
    for name in args.only or DATASETS:
        data = load_dataset(name, root=args.data_root)
        X, y = data.X.astype(np.float64), data.y
        for seed in range(args.seeds):
            train, test = train_test_split(np.arange(len(X)), test_size=0.4, stratify=y, random_state=seed)
            normal, anomalous = train[y[train] == 0], train[y[train] == 1]
            n_known = min(len(anomalous), int(round(0.01 * len(normal) / 0.99)))
            known = np.random.default_rng(seed).choice(anomalous, n_known, replace=False)
            X_train = X[np.r_[normal, known]]
            labels = np.r_[np.full(len(normal), UNLABELED), np.full(n_known, ANOMALY)]
            for detector, fit in found.items():
                torch.manual_seed(seed)
                started = time.perf_counter()
                score = fit(X_train, labels, seed)
                seconds = time.perf_counter() - started
                records.append(dict(dataset=name, seed=seed, detector=detector, fit_seconds=round(seconds, 2),
                                    auroc=roc_auc_score(y[test], score(X[test])), n_train=len(X_train),
                                    deepsad_params=json.dumps(params)))  # fmt: skip
        frame = pd.DataFrame(records)
        if args.records:
            write_atomically(args.records, frame.to_csv(index=False))
        rows = frame[frame["dataset"] == name].groupby("detector", sort=False)
        cells = [f"{100 * rows.get_group(d)['auroc'].mean():.1f} ± {100 * rows.get_group(d)['auroc'].std():.1f} "
                 f"({rows.get_group(d)['fit_seconds'].mean():.1f} s)" for d in found]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
