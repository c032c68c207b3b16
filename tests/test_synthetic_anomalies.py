import numpy as np
import pytest

from deepsad.synthetic_anomalies import DEFECTS, add_defects


@pytest.mark.parametrize("kind", DEFECTS)
def test_defects_change_exactly_their_masked_pixels(kind):
    rng = np.random.default_rng(0)
    images = np.full((20, 3, 32, 32), 0.5, dtype=np.float32)
    changed, masks = add_defects(images, kind, rng)
    assert changed.shape == images.shape and masks.shape == (20, 32, 32) and masks.dtype == bool
    assert (images == 0.5).all()  # the input is left alone
    difference = np.abs(changed - images).max(axis=1)
    assert (masks.sum(axis=(1, 2)) > 0).all()
    assert (difference[~masks] <= 0.5 * 0.1 + 1e-6).all()  # outside the mask: at most a faint fringe
    assert np.median(difference[masks]) > 0.1
    assert changed.min() >= 0 and changed.max() <= 1


def test_same_generator_same_defects_and_bad_requests_are_named():
    images = np.zeros((4, 1, 28, 28), dtype=np.float32)
    first = add_defects(images, "scratch", np.random.default_rng(3))
    again = add_defects(images, "scratch", np.random.default_rng(3))
    np.testing.assert_array_equal(first[0], again[0])
    with pytest.raises(ValueError, match="kind must be one of"):
        add_defects(images, "crack", np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"images must have shape \(n, channels, height, width\)"):
        add_defects(images[0], "patch", np.random.default_rng(0))
