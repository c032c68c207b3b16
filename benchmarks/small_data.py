"""Small tables: default Deep SAD, Deep SAD with its hyperparameters selected on the training
data alone, and scikit-learn's IsolationForest, on the smallest ODDS set and on subsamples of
the larger ones.

    python benchmarks/small_data.py --data-root DIR [--sizes 100 300 1000] [--seeds 3]
        [--only cardio ...] [--records CSV]

Per data set, seed and training size n: a stratified 60:40 train/test split of the whole set
(the test split is the same at every n); the training set is n normal samples of the training
split, unlabeled, plus k = max(3, round(0.01·n)) of its anomalies, labeled (three at least, so
that 3-fold selection has one per fold). arrhythmia (452 samples) runs once, with every normal
sample of its training split. Test AUROC (%) of:

- Deep SAD with its defaults;
- Deep SAD selected by ``GridSearchCV`` over ``GRID`` with ``AnomalyStratifiedKFold(3)`` and
  ``pu_auroc_scorer`` (deepsad.decisions.selection: no test label is used), refitted on the
  whole training set;
- scikit-learn's IsolationForest with its defaults (it ignores the labels).

--records writes one row per fit (with the chosen parameters) after every cell.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split

from deepsad import ANOMALY, UNLABELED, DeepSAD
from deepsad.data.datasets import load_dataset
from deepsad.decisions import AnomalyStratifiedKFold, pu_auroc_scorer
from deepsad.files import write_atomically

SMALL = ["arrhythmia"]
LARGER = ["cardio", "satellite", "satimage-2", "thyroid", "shuttle"]
GRID = {"lr": [1e-4, 1e-3], "batch_size": [128, 32]}
"""What the selection chooses: the paper's learning rate or 10× it, and the paper's batch of 128
or 32 (on 100 samples, 128 means one update per epoch). The pretraining follows the same values."""


def with_pretraining(grid: dict) -> list[dict]:
    """``GridSearchCV``'s candidates: every learning rate × batch size, the pretraining's alike."""
    return [{"lr": [lr], "ae_lr": [lr], "batch_size": [batch], "ae_batch_size": [batch]}
            for lr in grid["lr"] for batch in grid["batch_size"]]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 300, 1000])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", action="append", choices=SMALL + LARGER)
    parser.add_argument("--records", type=Path, help="CSV of per-fit records, rewritten after every cell")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    print(f"small tables, {args.seeds} seeds; selection grid {GRID} (pretraining alike), 3 folds, PU-AUROC\n")
    print("| data | n train (labeled anomalies) | Deep SAD default | Deep SAD selected | IsolationForest | chosen |")
    print("|---|---|---|---|---|---|")
    records = []
    for name in args.only or SMALL + LARGER:
        data = load_dataset(name, root=args.data_root)
        X, y = data.X.astype(np.float64), data.y
        for size in [None] if name in SMALL else args.sizes:
            cell = []
            for seed in range(args.seeds):
                rng = np.random.default_rng(seed)
                train, test = train_test_split(np.arange(len(X)), test_size=0.4, stratify=y, random_state=seed)
                normal, anomalous = train[y[train] == 0], train[y[train] == 1]
                n_normal = len(normal) if size is None else size
                if n_normal > len(normal):
                    break
                n_known = min(len(anomalous), max(3, round(0.01 * n_normal)))
                chosen = np.r_[rng.choice(normal, n_normal, replace=False), rng.choice(anomalous, n_known, replace=False)]
                X_train, X_test = X[chosen], X[test]
                labels = np.r_[np.full(n_normal, UNLABELED), np.full(n_known, ANOMALY)]
                fits = {}
                started = time.perf_counter()
                default = DeepSAD(random_state=seed, device="cpu").fit(X_train, labels)
                fits["Deep SAD default"] = (default.anomaly_score, time.perf_counter() - started, "")
                started = time.perf_counter()
                search = GridSearchCV(DeepSAD(random_state=seed, device="cpu"), with_pretraining(GRID),
                                      scoring=pu_auroc_scorer, cv=AnomalyStratifiedKFold(3, random_state=seed),
                                      error_score="raise").fit(X_train, labels)  # fmt: skip
                picked = {k: v for k, v in search.best_params_.items() if not k.startswith("ae_")}
                fits["Deep SAD selected"] = (search.best_estimator_.anomaly_score, time.perf_counter() - started,
                                             json.dumps(picked))  # fmt: skip
                started = time.perf_counter()
                forest = IsolationForest(random_state=seed).fit(X_train)
                fits["IsolationForest"] = (lambda Z, f=forest: -f.score_samples(Z), time.perf_counter() - started, "")
                for method, (score, seconds, params) in fits.items():
                    row = dict(dataset=name, n_train=len(X_train), n_labeled_anomalies=n_known, seed=seed,
                               method=method, auroc=roc_auc_score(y[test], score(X_test)),
                               fit_seconds=round(seconds, 2), chosen=params)  # fmt: skip
                    records.append(row)
                    cell.append(row)
            if not cell:
                continue
            if args.records:
                write_atomically(args.records, pd.DataFrame(records).to_csv(index=False))
            frame = pd.DataFrame(cell)
            means = frame.groupby("method", sort=False)["auroc"].agg(["mean", "std"])
            values = " | ".join(f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in means.itertuples(index=False))
            picks = frame.loc[frame["method"] == "Deep SAD selected", "chosen"].value_counts().to_dict()
            print(f"| {name} | {frame['n_train'].iloc[0]} ({frame['n_labeled_anomalies'].iloc[0]}) | {values} | "
                  f"{picks} |", flush=True)


if __name__ == "__main__":
    main()
