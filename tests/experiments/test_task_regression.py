"""Experiment keys name the same training and test rows as before the redesign.

``regression/tasks.json`` was recorded with deepsad 0.1.0: for digits (split by the seed) and
a generated ODDS-style table (split by the experiment's generator), which rows train and test
and with which labels. A store resumes by key, so a key must keep meaning the same task (and
change where the defaults the result rests on changed).
"""

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import build_task, cached_dataset

RECORDED = json.loads((Path(__file__).parent / "regression" / "tasks.json").read_text())


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda r: f"{r['experiment']['dataset']}-{r['key']}")
def test_a_key_names_the_same_rows_and_labels(odds_root, recorded):
    cached_dataset.cache_clear()
    experiment = Experiment(**recorded["experiment"])
    definition = json.dumps(experiment.to_dict(), sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(definition.encode()).hexdigest()[:16] == recorded["key"]  # the same definition
    # The key itself is the recorded one unless the experiment rests on defaults that changed
    # since (Deep SAD's table schedule): then it must differ, or a store would mix the two.
    assert (experiment.key == recorded["key"]) == (experiment._defaults_revision() == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generated ODDS file is not the official one
        task = build_task(experiment, root=str(odds_root))
    digest = hashlib.sha256()
    for array in (task.scenario.indices, task.y_train, task.test_indices, task.test_truth):
        digest.update(np.ascontiguousarray(np.asarray(array, dtype=np.int64)).tobytes())
    assert digest.hexdigest() == recorded["rows_and_labels_sha256"]
    assert list(task.known_anomaly_classes) == recorded["known_anomaly_classes"]
    cached_dataset.cache_clear()
