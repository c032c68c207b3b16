"""The default job: Deep SVDD vs Deep SAD on scikit-learn's bundled digits (no download).

Each digit in turn is the normal class, the other nine are anomalies. A stratified 60:40
split of all digits gives train and test; the training set is the normal class's training
samples (unlabeled) plus labeled anomalies from the other classes' training samples making
up ``ratio_known_anomaly`` of it. AUROC is measured on the whole test split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from deepsad.labels import ANOMALY, UNLABELED
from deepsad.models import DeepSAD, DeepSVDD


@dataclass
class DemoResult:
    method: str
    normal_class: int
    seed: int
    auroc: float
    seconds: float


def digits_task(normal_class: int, ratio_known_anomaly: float, seed: int):
    """Train inputs and semi-supervised labels, test inputs and 0/1 anomaly truth."""
    digits = load_digits()
    X, classes = digits.data.astype(np.float32), digits.target
    train_idx, test_idx = train_test_split(
        np.arange(len(X)), test_size=0.4, stratify=classes, random_state=seed
    )
    rng = np.random.default_rng(seed)
    normal_train = train_idx[classes[train_idx] == normal_class]
    anomaly_pool = train_idx[classes[train_idx] != normal_class]
    # m / (n + m) = ratio  ⇒  m = ratio · n / (1 − ratio)
    n_known = int(round(ratio_known_anomaly * len(normal_train) / (1.0 - ratio_known_anomaly)))
    known = rng.choice(anomaly_pool, size=n_known, replace=False)
    X_train = X[np.r_[normal_train, known]]
    y_train = np.r_[np.full(len(normal_train), UNLABELED), np.full(n_known, ANOMALY)]
    truth = (classes[test_idx] != normal_class).astype(int)
    return X_train, y_train, X[test_idx], truth


def run_demo(
    normal_classes=range(10),
    seeds=(0,),
    ratio_known_anomaly: float = 0.05,
    device: str = "auto",
    estimator_params: dict | None = None,
    on_result=None,
) -> list[DemoResult]:
    """Fit Deep SVDD and Deep SAD for every normal class and seed; return their test AUROCs."""
    methods = {"Deep SVDD": DeepSVDD, "Deep SAD": DeepSAD}
    results = []
    for seed in seeds:
        for normal_class in normal_classes:
            X_train, y_train, X_test, truth = digits_task(normal_class, ratio_known_anomaly, seed)
            for method, estimator_class in methods.items():
                started = time.perf_counter()
                model = estimator_class(random_state=seed, device=device, **(estimator_params or {}))
                # Deep SVDD ignores the labels (it leaves the labeled anomalies out).
                model.fit(X_train, y_train)
                auroc = roc_auc_score(truth, model.anomaly_score(X_test))
                result = DemoResult(method, normal_class, seed, float(auroc), time.perf_counter() - started)
                results.append(result)
                if on_result is not None:
                    on_result(result)
    return results
