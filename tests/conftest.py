import numpy as np
import pytest
import torch

# The test networks are tiny: intra-op threads only add synchronisation, and on a machine
# shared with other jobs they can slow training by orders of magnitude.
torch.set_num_threads(1)

FAST = dict(epochs=3, ae_epochs=3, batch_size=32, ae_batch_size=32, random_state=0)


@pytest.fixture
def blobs():
    """200 normal points, 20 far anomalies; labels: 5 known anomalies, 5 known normals."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 6)), rng.normal(5, 1, size=(20, 6))]).astype(np.float32)
    truth = np.r_[np.zeros(200), np.ones(20)]
    y = np.zeros(220, dtype=int)
    y[200:205] = -1
    y[:5] = 1
    return X, y, truth
