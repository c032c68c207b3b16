import gzip
import warnings

import numpy as np
import pytest

from deepsad.data.downloads import ChecksumWarning
from deepsad.experiments.spec import Experiment
from deepsad.experiments.tasks import build_task, cached_dataset


@pytest.fixture(autouse=True)
def fresh_cache():
    cached_dataset.cache_clear()
    yield
    cached_dataset.cache_clear()


def odds_task(root, method="deepsad", **fields):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChecksumWarning)  # the generated file is not the official one
        return build_task(Experiment("cardio", method, **fields), root=str(root), download=False)


def test_odds_test_rows_are_the_complement_of_the_split_and_disjoint_from_training(odds_root):
    task = odds_task(odds_root, seed=0, ratio_known_anomaly=0.05)
    assert len(task.test_indices) == 132  # 40% of 330
    assert task.test_truth.sum() == 12  # the outlier ratio is kept
    # Training rows are drawn from the other 198 rows: all 180 inliers plus the labeled outliers.
    assert len(task.X_train) == 180 + task.scenario.n_known_anomaly
    assert task.scenario.n_known_anomaly == round(0.05 * 180 / 0.95)
    assert (task.y_train == -1).sum() == task.scenario.n_known_anomaly
    assert task.known_anomaly_classes == (1,)


def test_odds_scaling_for_a_shallow_method_uses_the_training_rows_only(odds_root):
    task = odds_task(odds_root, method="ocsvm", seed=1, ratio_known_anomaly=0.0)
    assert np.allclose(task.X_train.min(axis=0), 0) and np.allclose(task.X_train.max(axis=0), 1)
    # Test outliers lie beyond the training range (they were not used to fit the scaler).
    assert task.X_test[task.test_truth == 1].max() > 1.5
    assert task.known_anomaly_classes == ()


@pytest.mark.parametrize("method", ["deepsad", "deepsvdd", "hybrid-ocsvm"])
def test_estimators_with_a_scaler_get_the_raw_table_and_scale_it_once_themselves(odds_root, method):
    raw = odds_task(odds_root, method=method, seed=1, ratio_known_anomaly=0.05)
    scaled = odds_task(odds_root, method="ocsvm", seed=1, ratio_known_anomaly=0.05)
    # The same rows: the split and the scenario do not depend on the method.
    np.testing.assert_array_equal(raw.y_train, scaled.y_train)
    data = cached_dataset("cardio", str(odds_root), False)
    np.testing.assert_array_equal(raw.X_test, data.X[raw.test_indices].astype(np.float32))
    assert raw.X_train.min() < 0 or raw.X_train.max() > 1
    # Turned off, the estimator's scaler leaves the scaling to the task.
    params = {"autoencoder__scaler": None} if method.startswith("hybrid") else {"scaler": None}
    unscaled_by_model = odds_task(odds_root, method=method, seed=1, ratio_known_anomaly=0.05, params=params)
    np.testing.assert_array_equal(unscaled_by_model.X_train, scaled.X_train)


def test_same_seed_same_task_other_seed_other_split(odds_root):
    first, again, other = (odds_task(odds_root, seed=s, ratio_known_anomaly=0.05) for s in (3, 3, 4))
    assert np.array_equal(first.test_indices, again.test_indices)
    assert np.array_equal(first.X_train, again.X_train) and np.array_equal(first.y_train, again.y_train)
    assert not np.array_equal(first.test_indices, other.test_indices)


def test_digits_one_vs_rest_with_known_classes():
    experiment = Experiment("digits", "ssad", seed=0, normal_class=3, known_anomaly_classes=(5,), ratio_known_anomaly=0.1)
    task = build_task(experiment)
    digits_test_size = 719  # 40% of sklearn's 1797 digits
    assert len(task.X_test) == digits_test_size
    assert task.test_truth.sum() == digits_test_size - 73  # all but the test 3s are anomalies
    labeled = task.y_train == -1
    assert labeled.sum() == round(0.1 * 110 / 0.9)  # 110 training 3s
    assert (task.y_train == 0).sum() == 110
    assert task.X_train.dtype == np.float32 and 0 <= task.X_train.min() and task.X_train.max() <= 1
    assert task.known_anomaly_classes == (5,)


def test_known_classes_are_drawn_with_the_seed_when_not_given():
    tasks = [build_task(Experiment("digits", "deepsad", seed=s, normal_class=0, n_known_classes=2, ratio_known_anomaly=0.05)) for s in (0, 0, 1)]
    assert tasks[0].known_anomaly_classes == tasks[1].known_anomaly_classes
    assert len(tasks[0].known_anomaly_classes) == 2 and 0 not in tasks[0].known_anomaly_classes


def test_missing_data_without_download_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="thyroid.mat"):
        build_task(Experiment("thyroid", "deepsad"), root=str(tmp_path), download=False)


def test_impossible_scenarios_report_what_is_available(odds_root):
    with pytest.raises(ValueError, match="available"):
        odds_task(odds_root, ratio_known_anomaly=0.5)


@pytest.fixture
def mnist_root(tmp_path):
    """A data root with MNIST-format files: 100 training and 50 test images of 28×28, classes
    0..9 in turn, each image a random pattern with its own brightness and contrast."""
    rng = np.random.default_rng(0)

    def images(n):
        pattern = rng.random((n, 28, 28))
        return np.clip(rng.uniform(20, 60, (n, 1, 1)) + rng.uniform(50, 190, (n, 1, 1)) * pattern, 0, 255).astype(np.uint8)

    def write(name, array):
        header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
        (tmp_path / "MNIST" / "raw" / name).write_bytes(gzip.compress(header + array.tobytes()))

    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    write("train-images-idx3-ubyte.gz", images(100))
    write("train-labels-idx1-ubyte.gz", (np.arange(100) % 10).astype(np.uint8))
    write("t10k-images-idx3-ubyte.gz", images(50))
    write("t10k-labels-idx1-ubyte.gz", (np.arange(50) % 10).astype(np.uint8))
    return tmp_path


def mnist_task(root, **fields):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChecksumWarning)
        return build_task(Experiment("mnist", "deepsvdd", normal_class=3, **fields), root=str(root), download=False)


def test_images_are_scaled_to_the_unit_interval_by_default(mnist_root):
    task = mnist_task(mnist_root)
    raw = cached_dataset("mnist", str(mnist_root), False)
    np.testing.assert_allclose(task.X_test, raw.X_test.astype(np.float32) / 255.0)
    assert task.X_train.shape == (10, 1, 28, 28)


def test_gcn_preprocessing_normalizes_each_image_and_scales_with_the_training_range(mnist_root):
    task = mnist_task(mnist_root, preprocessing="gcn")
    assert task.X_train.min() == pytest.approx(0.0, abs=1e-6) and task.X_train.max() == pytest.approx(1.0, abs=1e-6)
    # Contrast normalization: every image ends with the same mean absolute deviation (in the
    # scaled units), whatever its brightness and contrast.
    deviation = np.abs(task.X_test - task.X_test.mean(axis=(1, 2, 3), keepdims=True)).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(deviation, deviation[0], rtol=1e-4)
    raw = cached_dataset("mnist", str(mnist_root), False)
    assert np.std(raw.X_test.astype(float).std(axis=(1, 2, 3))) > 5  # the raw images differ in contrast
