import numpy as np
import pytest

from deepsad.preprocessing import GlobalContrastScaler, ImageScaler, StandardMinMaxScaler


def test_standard_min_max_uses_training_statistics_only():
    train = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]])
    scaler = StandardMinMaxScaler().fit(train)
    np.testing.assert_allclose(scaler.transform(train), [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]])
    # Test rows are placed on the training scale: beyond the training range means beyond [0, 1].
    np.testing.assert_allclose(scaler.transform(np.array([[6.0, 12.0]]))[0, 0], 1.5)
    assert np.isfinite(scaler.transform(np.array([[6.0, 12.0]]))).all()  # constant feature: no 0/0


def test_image_scaler_maps_pixels_to_unit_interval():
    images = np.array([[[[0, 51], [255, 102]]]], dtype=np.uint8)
    np.testing.assert_allclose(ImageScaler().fit(images).transform(images).ravel(), [0.0, 0.2, 1.0, 0.4])
    with pytest.raises(ValueError, match="max_value must be positive"):
        ImageScaler(max_value=0).fit(images)


def test_global_contrast_normalization_by_hand():
    # Image a: pixels 0, 0, 0, 4 → centered −1, −1, −1, 3; L1 scale 1.5 → −2/3 ×3, 2.
    # Image b: pixels 2, 2, 6, 6 → centered −2, −2, 2, 2; L1 scale 2 → −1, −1, 1, 1.
    images = np.array([[[[0, 0], [0, 4]]], [[[2, 2], [6, 6]]]], dtype=np.float64)
    scaler = GlobalContrastScaler().fit(images)
    assert scaler.min_ == pytest.approx(-1.0) and scaler.range_ == pytest.approx(3.0)
    expected = (np.array([[-2 / 3, -2 / 3, -2 / 3, 2.0], [-1.0, -1.0, 1.0, 1.0]]) + 1.0) / 3.0
    np.testing.assert_allclose(scaler.transform(images).reshape(2, 4), expected, rtol=1e-6)
    assert scaler.transform(images).dtype == np.float32


def test_global_contrast_is_invariant_to_brightness_and_contrast():
    rng = np.random.default_rng(0)
    images = rng.random((5, 1, 4, 4))
    scaler = GlobalContrastScaler().fit(images)
    np.testing.assert_allclose(scaler.transform(3.0 * images + 7.0), scaler.transform(images), atol=1e-6)


def test_global_contrast_of_a_constant_image_is_zero_before_scaling():
    images = np.stack([np.full((1, 2, 2), 9.0), np.array([[[0.0, 1.0], [1.0, 0.0]]])])
    scaled = GlobalContrastScaler().fit(images).transform(images)
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaled[0], 0.5)  # normalized 0 in the range [-1, 1]


def test_global_contrast_refuses_empty_input():
    with pytest.raises(ValueError, match="at least one image"):
        GlobalContrastScaler().fit(np.zeros((0, 1, 2, 2)))
