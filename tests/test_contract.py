"""The contract every detector keeps, deep or shallow, on tables or images (one parametrized
suite over ``tests/estimators.CASES``, each case on the kind of data it takes): the verbs, the
threshold, reproducibility, labels, bad input, persistence and library manners."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

import deepsad
from deepsad.experiments.estimators import fresh_estimator
from deepsad.experiments.methods import METHODS
from deepsad.models.persistence import SAVABLE_ESTIMATORS
from tests.estimators import CASES, NEEDS_ANOMALIES, UNSUPERVISED, blobs, training_labels

pytestmark = pytest.mark.filterwarnings("ignore:.*collapse:UserWarning")


@pytest.fixture(params=sorted(CASES))
def name(request):
    return request.param


def data(name, seed=0):
    """The case's 200 normal samples and 20 far anomalies, its labels and the truth."""
    return blobs(seed, CASES[name].samples)


def fitted(name, **params):
    X, y, _ = data(name)
    return CASES[name].make(**params).fit(X, training_labels(CASES[name], y))


def test_verbs_agree_with_the_anomaly_score(name):
    X, y, _ = data(name)
    model = fitted(name)
    scores = model.anomaly_score(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    assert np.all(np.isfinite(scores))
    np.testing.assert_array_equal(model.score_samples(X), -scores)
    np.testing.assert_allclose(model.decision_function(X), model.threshold_ - scores)
    np.testing.assert_array_equal(model.predict(X), np.where(scores > model.threshold_, -1, 1))
    assert model.n_features_in_ == X.shape[1] and model.offset_ == -model.threshold_


def test_far_anomalies_are_found(name):
    X, _, truth = data(name)
    assert roc_auc_score(truth, fitted(name).anomaly_score(X)) > 0.85


@pytest.mark.filterwarnings("ignore:HSC was given no labeled anomalies:UserWarning")
def test_fresh_far_outliers_are_flagged_by_the_fit_time_threshold(name):
    samples, rng = CASES[name].samples, np.random.default_rng(1)
    X_train = samples.normal(rng, 200)
    X_test = np.concatenate([samples.normal(rng, 200), samples.anomalous(rng, 40)])
    is_outlier = np.r_[np.zeros(200), np.ones(40)]
    labels, params = None, {}
    if CASES[name].labels == NEEDS_ANOMALIES:
        # A few labeled outliers to learn from, and the epochs a classifier needs to learn them.
        X_train = np.concatenate([X_train, samples.anomalous(rng, 5)])
        labels, params = np.r_[np.zeros(200), -np.ones(5)], {"epochs": 10}
    model = CASES[name].make(**params).fit(X_train, labels)
    assert roc_auc_score(is_outlier, model.anomaly_score(X_test)) > 0.95
    assert np.all(model.predict(X_test)[is_outlier == 1] == -1)


def test_same_random_state_same_scores_and_another_seed_another_model(name):
    X, _, _ = data(name)
    np.testing.assert_array_equal(fitted(name).anomaly_score(X), fitted(name).anomaly_score(X))
    seed_parameter = CASES[name].seed_parameter
    if seed_parameter is not None:
        X_blobs, y, _ = data(name)
        reseeded = CASES[name].make().set_params(**{seed_parameter: 1})
        reseeded = reseeded.fit(X_blobs, training_labels(CASES[name], y)).anomaly_score(X)
        assert not np.array_equal(fitted(name).anomaly_score(X), reseeded)


@pytest.mark.parametrize("contamination", [0.1, 0.25])
def test_contamination_sets_the_training_flag_rate(name, contamination):
    X, y, _ = data(name)
    model = fitted(name, contamination=contamination)
    trained_on = X if CASES[name].labels == UNSUPERVISED else X[y != -1]
    assert abs(np.mean(model.predict(trained_on) == -1) - contamination) <= 0.01


def test_torch_tensors_and_data_frames_give_the_same_scores(name):
    X, y, _ = data(name)
    labels = training_labels(CASES[name], y)
    expected = fitted(name).anomaly_score(X)
    tensor_labels = None if labels is None else torch.from_numpy(labels)
    from_tensor = CASES[name].make().fit(torch.from_numpy(X), tensor_labels).anomaly_score(torch.from_numpy(X))
    np.testing.assert_allclose(from_tensor, expected, rtol=1e-6)
    if CASES[name].samples.are_images:
        return  # data frames hold tables
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    from_frame = CASES[name].make().fit(frame, labels)
    np.testing.assert_allclose(from_frame.anomaly_score(frame), expected, rtol=1e-6)
    assert list(from_frame.feature_names_in_) == list(frame.columns)


def test_images_are_accepted(name):
    images = np.random.default_rng(0).random((60, 3, 8, 8)).astype(np.float32)
    labels = None if CASES[name].labels == UNSUPERVISED else np.r_[np.zeros(55), -np.ones(5)]
    model = CASES[name].make().fit(images, labels)
    assert model.input_shape_ == (3, 8, 8)
    assert model.anomaly_score(images).shape == (60,)
    with pytest.raises(ValueError, match=r"X holds images of shape \(3, 2, 8\), but \w+ was fitted on images of shape \(3, 8, 8\)"):
        model.anomaly_score(images[:, :, :2])


# ----------------------------------------------------------------------- labels
def test_unsupervised_methods_leave_known_anomalies_out_and_say_so(name):
    if CASES[name].labels != UNSUPERVISED:
        pytest.skip("learns from labels")
    X, y, _ = data(name)
    with pytest.warns(UserWarning, match="ignores labels") as caught:
        with_labels = CASES[name].make().fit(X, y)
    # The warning points at the line that called fit.
    assert {w.filename for w in caught if "ignores labels" in str(w.message)} == {__file__}
    without_anomalies = CASES[name].make().fit(X[y != -1])
    np.testing.assert_allclose(with_labels.anomaly_score(X), without_anomalies.anomaly_score(X), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        CASES[name].make().fit(X, np.zeros(len(X)))


@pytest.mark.filterwarnings("ignore::deepsad.labels.LabelConventionWarning")
def test_methods_that_need_labeled_anomalies_say_so(name):
    if CASES[name].labels != NEEDS_ANOMALIES:
        pytest.skip("learns without labeled anomalies")
    X, y, _ = data(name)
    with pytest.raises(ValueError, match="needs labeled anomalies"):
        CASES[name].make().fit(X, np.where(y == -1, 1, y))


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.r_[np.zeros(219), 2], "^y must contain only"),
        (np.r_[np.zeros(219), 0.5], "^y must contain only"),
        (np.array(["a"] * 220, dtype=object), "^y must hold the numbers"),
        (np.zeros(219), "^y has 219 labels but X has 220"),
        (-np.ones(220), "^y labels every sample as a known anomaly"),
    ],
    ids=["two", "half", "strings", "length", "all-anomalies"],
)
def test_labels_outside_the_convention_are_refused(name, labels, message):
    X, _, _ = data(name)
    with pytest.raises(ValueError, match=message):
        CASES[name].make().fit(X, labels)


def test_boolean_labels_are_refused_with_the_conversion(name):
    X, _, truth = data(name)
    with pytest.raises(ValueError, match=r"booleans.*from_binary\(y, anomaly=True\)"):
        CASES[name].make().fit(X, truth.astype(bool))


def test_labels_in_the_other_convention_warn_and_the_warning_can_be_silenced(name):
    """0/1 labels with 1 = anomaly (PyOD, ADBench) look like known normals without known
    anomalies: a warning names the convention and the helper."""
    X, _, truth = data(name)
    y = truth.astype(int)
    with pytest.warns(deepsad.labels.LabelConventionWarning, match=r"from_binary\(y, anomaly=1\)"):
        try:
            CASES[name].make().fit(X, y)
        except ValueError:  # methods that need labeled anomalies refuse these labels after warning
            pass
    if CASES[name].labels == NEEDS_ANOMALIES:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", deepsad.labels.LabelConventionWarning)
        warnings.filterwarnings("ignore", category=deepsad.labels.LabelConventionWarning)
        CASES[name].make().fit(X, y)
    # Converted, the same labels are the intended ones and fit without that warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", deepsad.labels.LabelConventionWarning)
        CASES[name].make().fit(X, deepsad.labels.from_binary(y, anomaly=1))


def test_huge_finite_input_is_never_scored_nan(name):
    model = fitted(name)
    for value in (1e30, -1e30, 3e38, -3e38):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scores = model.anomaly_score(np.full((2, *CASES[name].samples.shape), value, dtype=np.float32))
        assert not np.any(np.isnan(scores)), (value, scores)


def test_a_nan_score_is_never_predicted_normal(name, monkeypatch):
    X, _, _ = data(name)
    model = fitted(name)
    monkeypatch.setattr(model, "_anomaly_score", lambda X: np.full(len(X), np.nan))
    with pytest.warns(UserWarning, match=r"overflowed .* set to \+inf"):
        scores = model.anomaly_score(X[:3])
    assert np.all(scores == np.inf)
    with pytest.warns(UserWarning, match="overflowed"):
        assert np.all(model.predict(X[:3]) == -1)


# -------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_refused(name, bad):
    X, y, _ = data(name)
    X_bad = X.copy()
    X_bad.reshape(len(X), -1)[3, 1] = bad
    with pytest.raises(ValueError, match="X"):
        CASES[name].make().fit(X_bad, training_labels(CASES[name], y))
    model = fitted(name)
    with pytest.raises(ValueError, match="X"):
        model.anomaly_score(X_bad)


def test_wrong_shapes_are_refused(name):
    X, y, _ = data(name)
    if CASES[name].samples.are_images:
        with pytest.raises(ValueError, match=r"X must have shape \(n_samples, channels, height, width\)"):
            CASES[name].make().fit(X.reshape(len(X), -1), y)
        model = fitted(name)
        with pytest.raises(ValueError, match=r"X holds images of shape \(1, 5, 16\), but \w+ was fitted on images of shape \(1, 16, 16\)"):
            model.predict(X[:, :, :5])
        with pytest.raises(ValueError, match=r"X holds table rows of shape \(6,\), but \w+ was fitted on images"):
            model.predict(np.zeros((4, 6), dtype=np.float32))
        return
    with pytest.raises(ValueError, match=r"X must have shape .*X.reshape\(-1, 1\)"):
        CASES[name].make().fit(X[:, 0])
    with pytest.raises(ValueError, match=r"X must have shape"):
        CASES[name].make().fit(X.reshape(220, 2, 3))
    model = fitted(name)
    with pytest.raises(ValueError, match="X has 5 features"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match=r"X holds images of shape \(1, 2, 3\), but \w+ was fitted on table rows of shape \(6,\)"):
        model.predict(np.zeros((4, 1, 2, 3), dtype=np.float32))


def test_channel_last_images_are_refused_with_the_transpose(name):
    images = np.random.default_rng(0).random((40, 8, 8, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=r"channel-last.*X.transpose\(0, 3, 1, 2\)"):
        CASES[name].make().fit(images)


def test_grayscale_images_without_a_channel_axis_get_a_hint(name):
    with pytest.raises(ValueError, match=r"X\[:, None\]"):
        CASES[name].make().fit(np.zeros((40, 8, 8), dtype=np.float32))


def _text_in(images):
    images = images.astype(object)
    images[3, 0, 2, 2] = "x"
    return images


BAD_TABLES = {
    "ragged": ([[1.0, 2.0], [1.0, 2.0, 3.0]], "ragged list"),
    "zero-sized": (np.zeros((40, 1, 0, 8), dtype=np.float32), "dimension of size 0"),
    "text-column": (pd.DataFrame({"a": np.arange(40.0), "colour": ["red", "blue"] * 20}), r"non-numeric column\(s\) \['colour'\]"),
    "categorical-column": (pd.DataFrame({"a": np.arange(40.0), "kind": pd.Categorical(["x", "y"] * 20)}), r"\['kind'\]"),
    "text-in-array": (np.array([["1", "x"], ["2", "3"]] * 20, dtype=object), "X column 1 is not numeric"),
    "float32-overflow": (np.full((40, 2), 1e39), "beyond the float32 range"),
    "meta": (torch.zeros(40, 2, device="meta"), "'meta' device"),
}
BAD_IMAGES = {
    "ragged": ([np.zeros((1, 8, 8)), np.zeros((1, 8, 9))], "ragged list"),
    "zero-sized": BAD_TABLES["zero-sized"],
    "text-in-array": (_text_in(np.zeros((40, 1, 8, 8))), r"X holds a non-numeric value in sample 3 \(could not convert"),
    "float32-overflow": (np.full((40, 1, 8, 8), 1e39), "beyond the float32 range"),
    "meta": (torch.zeros(40, 1, 8, 8, device="meta"), "'meta' device"),
}
"""Bad input of each kind, and what its message must say (data frames hold tables only)."""


@pytest.mark.parametrize("kind", sorted(BAD_TABLES))
def test_bad_input_is_named(name, kind):
    bad_input = BAD_IMAGES if CASES[name].samples.are_images else BAD_TABLES
    if kind not in bad_input:
        pytest.skip("data frames hold tables, which an image detector refuses by their shape")
    bad, message = bad_input[kind]
    with pytest.raises(ValueError, match=message):
        CASES[name].make().fit(bad)


def test_text_in_images_is_named_for_every_detector(name):
    with pytest.raises(ValueError, match=r"X holds a non-numeric value in sample 3"):
        CASES[name].make().fit(_text_in(np.zeros((40, 1, 8, 8))))


def test_complex_arrays_and_missing_values_are_named(name):
    with pytest.raises(ValueError, match="real-valued"):
        CASES[name].make().fit(np.ones((40, *CASES[name].samples.shape), dtype=complex))
    if CASES[name].samples.are_images:
        return  # data frames hold tables
    frame = pd.DataFrame({"a": pd.array([1, None] * 20, dtype="Int64"), "b": np.arange(40.0)})
    with pytest.raises(ValueError, match=r"missing values \(NaN\) in column\(s\) \['a'\]"):
        CASES[name].make().fit(frame)


def test_8_bit_images_are_scaled_to_the_unit_range(name):
    pixels = np.random.default_rng(0).integers(0, 256, size=(60, 1, 8, 8), dtype=np.uint8)
    y = None if CASES[name].labels == UNSUPERVISED else np.r_[np.zeros(55), -np.ones(5)]
    as_uint8 = CASES[name].make().fit(pixels, y)
    as_float = CASES[name].make().fit(pixels.astype(np.float32) / 255, y)
    np.testing.assert_allclose(as_uint8.anomaly_score(pixels), as_float.anomaly_score(pixels.astype(np.float32) / 255),
                               rtol=1e-5, atol=1e-6)


def test_bfloat16_tensors_are_read_as_float32(name):
    X, y, _ = data(name)
    expected = fitted(name).anomaly_score(torch.from_numpy(X).to(torch.bfloat16).float())
    scores = fitted(name).anomaly_score(torch.from_numpy(X).to(torch.bfloat16))
    np.testing.assert_array_equal(scores, expected)


def test_scoring_before_fit_is_refused(name):
    X, _, _ = data(name)
    with pytest.raises(NotFittedError):
        CASES[name].make().predict(X)


def test_invalid_parameters_are_named(name):
    X, y, _ = data(name)
    for parameter, value in [*CASES[name].invalid_parameters, ("contamination", 0.7)]:
        with pytest.raises(ValueError, match=f"'{parameter}' parameter"):
            CASES[name].make(**{parameter: value}).fit(X, training_labels(CASES[name], y))


def test_booleans_are_refused_where_a_number_is_expected(name):
    # scikit-learn's Interval(Integral, ...) takes True as 1: `epochs = true` would train one epoch.
    X, y, _ = data(name)
    model = CASES[name].make()
    numeric = [parameter for parameter, constraints in model._parameter_constraints.items()
               if any(hasattr(c, "left") for c in constraints) and "boolean" not in constraints]
    assert numeric, "every detector has a numeric parameter (contamination at least)"
    for parameter in numeric:
        with pytest.raises(ValueError, match=f"'{parameter}' parameter .*(not a boolean|Got True)"):
            CASES[name].make(**{parameter: True}).fit(X, training_labels(CASES[name], y))


# --------------------------------------------------------------- persistence
def test_every_savable_estimator_is_under_the_contract():
    covered = {type(case.make()).__name__ for case in CASES.values()}
    assert set(SAVABLE_ESTIMATORS) <= covered
    # The method table's "savable" agrees with the registry of model files.
    for name, method in METHODS.items():
        assert method.savable == (type(fresh_estimator(name)).__name__ in SAVABLE_ESTIMATORS), name


def test_save_and_load_give_identical_scores(name, tmp_path):
    X, _, _ = data(name)
    model = fitted(name)
    if type(model).__name__ not in SAVABLE_ESTIMATORS:
        assert not hasattr(model, "save")
        return
    model.save(tmp_path / "model.safetensors")
    loaded = deepsad.load(tmp_path / "model.safetensors")
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params() | {"device": "auto"}
    np.testing.assert_array_equal(loaded.anomaly_score(X), model.anomaly_score(X))
    assert loaded.threshold_ == model.threshold_
    assert loaded.history_ == json.loads(json.dumps(model.history_))


# ------------------------------------------------------------- library manners
def test_fit_and_score_leave_the_global_random_state_alone(name, tmp_path, monkeypatch):
    def reseeded(*args):
        raise AssertionError("the CUDA generators of the process were reseeded")

    monkeypatch.setattr(torch.cuda, "manual_seed_all", reseeded)
    monkeypatch.setattr(torch.cuda, "manual_seed", reseeded)
    X, _, _ = data(name)
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    model = fitted(name)
    model.anomaly_score(X)
    if type(model).__name__ in SAVABLE_ESTIMATORS:
        model.save(tmp_path / "model")
        deepsad.load(tmp_path / "model").anomaly_score(X)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state))


def test_training_scores_of_a_single_value_are_reported():
    X = np.random.default_rng(0).normal(size=(200, 4))
    X[0, 0] = 1e20  # dominates gamma="scale": every kernel value is 1
    with pytest.warns(UserWarning, match="training scores take almost a single value"):
        deepsad.baselines.OCSVM().fit(X)


@pytest.mark.parametrize("device", ["meta", "mps", "tpu"])
def test_devices_other_than_cpu_and_cuda_are_refused(device):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        deepsad.DeepSAD(device=device, epochs=1, ae_epochs=1).fit(np.random.default_rng(0).normal(size=(30, 2)))


def test_a_numpy_generator_is_a_random_state():
    X = np.random.default_rng(0).normal(size=(40, 3))
    first = deepsad.DeepSAD(epochs=1, ae_epochs=1, random_state=np.random.default_rng(5)).fit(X)
    second = deepsad.DeepSAD(epochs=1, ae_epochs=1, random_state=np.random.default_rng(5)).fit(X)
    np.testing.assert_array_equal(first.anomaly_score(X), second.anomaly_score(X))
