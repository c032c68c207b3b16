"""Fixed seeds give the same models as deepsad 0.1.0 did on the CPU.

``regression/record.py`` fitted every deep estimator on fixed small data before the estimators
were rebuilt by composition, and saved the scores, thresholds and model files. Refitting must
reproduce those scores, and the old model files must still load and score the same. The
tolerance only absorbs floating-point differences between CPU kernels (the same machine
reproduces them bit for bit); a change in initialisation, minibatch order or loss gives
differences of order one.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import deepsad
from tests.models.regression.record import CASES

HERE = Path(__file__).parent / "regression"
RECORDED = json.loads((HERE / "recorded.json").read_text())
TOLERANCE = dict(rtol=2e-4, atol=1e-6)
CHANNELS_LAST_TOLERANCE = dict(rtol=5e-3, atol=1e-5)
"""Convolutional networks train on the CPU in the channels-last layout (since 0.3.0): the same
model up to the order of floating-point sums, which training grows to a few 1e-3 of a score."""


def _data(name):
    with np.load(HERE / "data.npz", allow_pickle=False) as data:
        if name.endswith("_images"):
            return data["images"], data["image_labels"]
        return data["X"], data["y"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixed_seed_reproduces_the_recorded_model(name):
    X, y = _data(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CASES[name]().fit(X, y)
    tolerance = CHANNELS_LAST_TOLERANCE if name.endswith("_images") else TOLERANCE
    np.testing.assert_allclose(model.anomaly_score(X), RECORDED[name]["scores"], **tolerance)
    np.testing.assert_allclose(model.threshold_, RECORDED[name]["threshold"], **tolerance)


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_files_of_the_earlier_version_load(name):
    X, _ = _data(name)
    model = deepsad.load(HERE / f"{name}.safetensors", device="cpu")
    np.testing.assert_allclose(model.anomaly_score(X), RECORDED[name]["scores"], **TOLERANCE)
    assert model.threshold_ == RECORDED[name]["threshold"]
