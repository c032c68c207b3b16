import numpy as np
import pytest
import scipy.io


@pytest.fixture
def odds_root(tmp_path):
    """A data root holding a small ODDS-format file named cardio.mat: 300 inliers, 30 outliers
    shifted far away, so any working method separates them."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(300, 5)), rng.normal(6, 1, size=(30, 5))])
    y = np.r_[np.zeros(300), np.ones(30)][:, None]
    (tmp_path / "ODDS").mkdir()
    scipy.io.savemat(tmp_path / "ODDS" / "cardio.mat", {"X": X, "y": y})
    return tmp_path
