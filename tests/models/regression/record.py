"""Records the regression fixtures of ``tests/models/test_regression.py``: fixed small data, the
anomaly scores and thresholds of each deep estimator fitted on it with fixed seeds, and the
fitted models as model files (format 1).

The recorded values were made with deepsad 0.1.0 before the estimators were rebuilt by
composition, so the test proves that the rebuilt estimators train the very same models. By
default only cases that are not recorded yet are recorded (existing values and model files
stay as the earlier version wrote them); ``--all`` records everything again, for a deliberate
change of behaviour:

    python tests/models/regression/record.py [--all]
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from deepsad import HSC, SSDGM, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier

HERE = Path(__file__).parent
SCHEDULE = dict(epochs=3, lr=1e-3, lr_milestones=(2,), batch_size=32, random_state=0)
PRETRAINING = dict(ae_epochs=3, ae_lr=1e-3, ae_lr_milestones=(2,), ae_batch_size=32)

CASES = {
    "deepsad": lambda: DeepSAD(**SCHEDULE, **PRETRAINING),
    "deepsvdd": lambda: DeepSVDD(**SCHEDULE, **PRETRAINING),
    "deepsvdd_soft": lambda: DeepSVDD(objective="soft-boundary", nu=0.2, **SCHEDULE, **PRETRAINING),
    # Past the warm-up, so the radius is re-solved during training (epochs 10 and 12's end).
    "deepsvdd_soft_radius": lambda: DeepSVDD(objective="soft-boundary", nu=0.2, **{**SCHEDULE, "epochs": 12},
                                             **PRETRAINING),
    "hsc": lambda: HSC(**SCHEDULE, **PRETRAINING),
    "hsc_squared": lambda: HSC(h="squared", pretrain=False, **SCHEDULE),
    "autoencoder": lambda: Autoencoder(ae_epochs=3, ae_lr=1e-3, ae_lr_milestones=(2,), ae_batch_size=32, random_state=0),
    "supervised": lambda: SupervisedClassifier(**SCHEDULE, **PRETRAINING),
    "ssdgm": lambda: SSDGM(**SCHEDULE),
    "deepsad_images": lambda: DeepSAD(**SCHEDULE, **PRETRAINING),
}


def make_data() -> dict[str, np.ndarray]:
    """Tabular blobs (300 normal, 30 anomalous; 10 anomalies and 10 normals labeled) and small
    random 1×28×28 images (the MNIST LeNet) with two labeled anomalies."""
    rng = np.random.default_rng(20261201)
    X = np.vstack([rng.normal(size=(300, 7)), rng.normal(3.0, 1.0, size=(30, 7))]).astype(np.float32)
    y = np.zeros(330, dtype=np.int64)
    y[300:310] = -1
    y[:10] = 1
    images = rng.random((48, 1, 28, 28), dtype=np.float32)
    images[-8:] = np.clip(images[-8:] * 0.3 + 0.7, 0.0, 1.0)
    image_labels = np.zeros(48, dtype=np.int64)
    image_labels[-2:] = -1
    return {"X": X, "y": y, "images": images, "image_labels": image_labels}


def main() -> None:
    torch.set_num_threads(1)
    everything = "--all" in sys.argv[1:]
    data = make_data()
    if everything or not (HERE / "data.npz").exists():
        np.savez(HERE / "data.npz", **data)
    recorded_file = HERE / "recorded.json"
    recorded = {} if everything or not recorded_file.exists() else json.loads(recorded_file.read_text())
    for name, factory in CASES.items():
        if name in recorded:
            continue
        X, y = (data["images"], data["image_labels"]) if name.endswith("_images") else (data["X"], data["y"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = factory().fit(X, y)
        model.save(HERE / f"{name}.safetensors")
        recorded[name] = {
            "threshold": model.threshold_,
            "scores": model.anomaly_score(X).tolist(),
        }
    (HERE / "recorded.json").write_text(json.dumps(recorded, indent=1) + "\n")


if __name__ == "__main__":
    main()
