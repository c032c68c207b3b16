"""How much of the Deep SAD paper's ODDS numbers the reference code's split gave away.

The reference code drew the training and the test set from two separate 60:40 splits that
shared one random state, so most test rows were also training rows (labeled anomalies
included), and scaled the test rows with scalers fitted on another subset. This script fits
one method with the paper's settings (those of configs/odds.toml and configs/odds_baselines.toml)
on both:

- "disjoint": deepsad's protocol (test = exact complement of the training split);
- "overlapping": the reference code's two-split construction, rebuilt here for comparison.

OC-SVM and SSAD (``--selection paper``) choose their kernel on a random 10% of each test set
and are scored on the other 90%, the same samples under both constructions.

    python benchmarks/odds_split_overlap.py --data-root DIR [--dataset satimage-2] [--seeds 10]
    python benchmarks/odds_split_overlap.py --data-root DIR --dataset satellite --method ocsvm --selection paper
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from deepsad.data.scenario import make_scenario
from deepsad.experiments.config import method_params, read_config
from deepsad.experiments.estimators import make_estimator
from deepsad.experiments.selection import paper_protocol
from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import build_task, cached_dataset
from deepsad.preprocessing import StandardMinMaxScaler

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def overlapping_task(X, y, seed: int, ratio_known_anomaly: float):
    """The reference construction: two splits from one shared RandomState."""
    shared = np.random.RandomState(seed)
    rows = np.arange(len(y))
    train_a, _ = train_test_split(rows, test_size=0.4, stratify=y, random_state=shared)
    train_b, test_b = train_test_split(rows, test_size=0.4, stratify=y, random_state=shared)
    scenario = make_scenario(y[train_a], [0], [1], [1], 0.0, ratio_known_anomaly, 0.0, random_state=seed)
    train_scaler = StandardMinMaxScaler().fit(X[train_a])
    test_scaler = StandardMinMaxScaler().fit(X[train_b])
    X_train = train_scaler.transform(X[train_a][scenario.indices]).astype(np.float32)
    X_test = test_scaler.transform(X[test_b]).astype(np.float32)
    overlap = np.isin(test_b, train_a).mean()
    return X_train, np.asarray(scenario.semi_supervised_labels, dtype=np.int64), X_test, y[test_b], overlap


def test_auroc(method, params, seed, selection, X_train, y_train, X_test, truth) -> float:
    if selection == "paper":
        chosen = paper_protocol(method, params, X_train, y_train, X_test, truth, seed=seed, device="cpu")
        model = chosen.estimator.fit(X_train, y_train)
        keep = chosen.report_mask
        return roc_auc_score(truth[keep], model.anomaly_score(X_test[keep]))
    model = make_estimator(method, params, seed, "cpu").fit(X_train, y_train)
    return roc_auc_score(truth, model.anomaly_score(X_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--dataset", default="satimage-2")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--method", default="deepsad", help="a runner method name [default: deepsad]")
    parser.add_argument("--selection", choices=["paper"], default=None,
                        help="choose OC-SVM's or SSAD's kernel by the paper's protocol")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    config = "odds.toml" if args.method in ("deepsad", "deepsvdd") else "odds_baselines.toml"
    params = method_params(read_config(CONFIGS / config), args.dataset, args.method)
    data = cached_dataset(args.dataset, args.data_root, False)
    disjoint, overlapping, overlaps = [], [], []
    print("| seed | test rows also in training | AUROC disjoint | AUROC overlapping |\n|---|---|---|---|")
    for seed in range(args.seeds):
        experiment = Experiment(args.dataset, args.method, seed=seed, ratio_known_anomaly=0.01, params=params)
        task = build_task(experiment, root=args.data_root, download=False)
        disjoint.append(test_auroc(args.method, params, seed, args.selection,
                                   task.X_train, task.y_train, task.X_test, task.test_truth))
        X_train, y_train, X_test, truth, overlap = overlapping_task(data.X, data.y, seed, 0.01)
        overlapping.append(test_auroc(args.method, params, seed, args.selection, X_train, y_train, X_test, truth))
        overlaps.append(overlap)
        print(f"| {seed} | {100 * overlap:.0f}% | {100 * disjoint[-1]:.1f} | {100 * overlapping[-1]:.1f} |", flush=True)
    print(f"| mean ± std | {100 * np.mean(overlaps):.0f}% | {100 * np.mean(disjoint):.1f} ± {100 * np.std(disjoint, ddof=1):.1f} "
          f"| {100 * np.mean(overlapping):.1f} ± {100 * np.std(overlapping, ddof=1):.1f} |")


if __name__ == "__main__":
    main()
