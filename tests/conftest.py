import pytest
import torch

from tests.estimators import AUTOENCODER, DEEP
from tests.estimators import blobs as make_blobs

# The test networks are tiny: intra-op threads only add synchronisation, and on a machine
# shared with other jobs they can slow training by orders of magnitude.
torch.set_num_threads(1)

FAST = DEEP
AUTOENCODER_FAST = AUTOENCODER
TINY = {"epochs": 2, "ae_epochs": 2, "batch_size": 64, "ae_batch_size": 64, "lr_milestones": [1], "ae_lr_milestones": [1]}
"""Experiment parameters for the shortest runs that still exercise both stages and the schedule."""


@pytest.fixture
def blobs():
    """200 normal points, 20 far anomalies; labels: 5 known anomalies, 5 known normals."""
    return make_blobs()
