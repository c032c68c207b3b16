import numpy as np
import pandas as pd
import pytest

from deepsad import HSC, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier

FAST = dict(epochs=10, ae_epochs=10, random_state=0)


def _perturbed(feature=2, n=600, d=6, shift=6.0):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    anomalies = rng.normal(size=(40, d))
    anomalies[:, feature] += shift
    return X, anomalies


@pytest.mark.filterwarnings("ignore:HSC was given no labeled anomalies:UserWarning")
@pytest.mark.parametrize("make", [lambda: DeepSAD(**FAST), lambda: DeepSVDD(**FAST), lambda: HSC(**FAST)],
                         ids=["DeepSAD", "DeepSVDD", "HSC"])
def test_the_perturbed_feature_gets_the_largest_attribution(make):
    X, anomalies = _perturbed()
    model = make().fit(X)
    flagged = anomalies[model.predict(anomalies) == -1]
    assert len(flagged) >= 20
    attributions = model.explain(flagged)
    top = np.abs(attributions).argmax(axis=1)
    assert np.mean(top == 2) >= 0.9


def test_attributions_add_up_to_the_score_difference_from_the_baseline():
    X, anomalies = _perturbed()
    model = DeepSAD(**FAST).fit(X)
    baseline = X[:1]
    attributions = model.explain(anomalies, baseline=baseline, steps=128)
    difference = model.anomaly_score(anomalies) - model.anomaly_score(baseline)[0]
    np.testing.assert_allclose(attributions.sum(axis=1), difference, rtol=0.02, atol=0.02 * np.abs(difference).max())
    # the default baseline is the training mean, which the scaler keeps
    default = model.explain(anomalies)
    mean_score = model.anomaly_score(model.scaler_.mean_.reshape(1, -1))[0]
    np.testing.assert_allclose(default.sum(axis=1), model.anomaly_score(anomalies) - mean_score, rtol=0.05,
                               atol=0.05 * np.abs(difference).max())


def test_a_dataframe_is_explained_column_by_column():
    X, anomalies = _perturbed()
    columns = [f"sensor_{i}" for i in range(X.shape[1])]
    model = DeepSAD(**FAST).fit(pd.DataFrame(X, columns=columns))
    attributions = model.explain(pd.DataFrame(anomalies, columns=columns))
    assert attributions.shape == anomalies.shape
    assert list(model.feature_names_in_) == columns


def test_images_and_other_deep_models_explain_in_their_input_shape():
    rng = np.random.default_rng(0)
    images = rng.random((64, 1, 28, 28)).astype(np.float32)
    y = np.zeros(64, dtype=int)
    y[:4] = -1
    for model in (DeepSAD(epochs=1, ae_epochs=1, random_state=0), SupervisedClassifier(epochs=1, ae_epochs=1, random_state=0),
                  Autoencoder(ae_epochs=1, random_state=0)):
        model.fit(images, y if not isinstance(model, Autoencoder) else None)
        assert model.explain(images[:3], steps=4).shape == (3, 1, 28, 28)


def test_bad_requests_are_named():
    X, anomalies = _perturbed()
    model = DeepSAD(epochs=1, ae_epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"baseline must be one finite sample of shape \(6,\); got shape \(2, 6\)"):
        model.explain(anomalies, baseline=X[:2])
    with pytest.raises(ValueError, match="baseline must be one finite sample"):
        model.explain(anomalies, baseline=np.full(6, np.nan))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        model.explain(anomalies, steps=0)
    with pytest.raises(ValueError, match="6 features"):
        model.explain(anomalies[:, :3])


def test_a_flagged_sample_is_nearest_to_the_known_anomalies_it_resembles():
    from deepsad.explanations import nearest_labeled_anomalies

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    high, low = rng.normal(5, 0.5, size=(6, 4)), rng.normal(-5, 0.5, size=(6, 4))
    known = np.vstack([high, low])
    model = DeepSAD(**FAST).fit(np.vstack([X, known]), np.r_[np.zeros(400), -np.ones(12)])
    new = np.vstack([rng.normal(5, 0.5, size=(5, 4)), rng.normal(-5, 0.5, size=(5, 4))])
    neighbours = nearest_labeled_anomalies(model, new, known, k=3)
    assert neighbours.indices.shape == neighbours.distances.shape == (10, 3)
    assert (neighbours.indices[:5] < 6).all() and (neighbours.indices[5:] >= 6).all()
    assert (np.diff(neighbours.distances, axis=1) >= 0).all()
    with pytest.raises(ValueError, match="k=13 is more than the 12 labeled anomalies"):
        nearest_labeled_anomalies(model, new, known, k=13)
    # numpy integers are integers, and a calibrated model embeds with its detector
    from deepsad.decisions import CalibratedDetector

    calibrated = CalibratedDetector(DeepSAD(**FAST), random_state=0).fit(np.vstack([X, known]),
                                                                        np.r_[np.zeros(400), -np.ones(12)])
    through_wrapper = nearest_labeled_anomalies(calibrated, new, known, k=np.int64(3))
    direct = nearest_labeled_anomalies(calibrated.detector_, new, known, k=3)
    np.testing.assert_array_equal(through_wrapper.indices, direct.indices)
    with pytest.raises(TypeError, match="IsolationForest has no embedding"):
        from deepsad.baselines import IsolationForest

        nearest_labeled_anomalies(IsolationForest().fit(X), new, known)


def test_outlier_exposure_draws_auxiliary_anomalies_into_every_batch():
    import warnings

    from deepsad.training import train as real_train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    auxiliary = rng.normal(0, 4, size=(50, 4))  # anomalies of every direction
    test = np.vstack([rng.normal(size=(100, 4)), rng.normal(0, 4, size=(100, 4))])
    truth = np.r_[np.zeros(100), np.ones(100)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # HSC does not warn of missing anomalies: it has some
        exposed = HSC(**FAST).fit(X, X_auxiliary=auxiliary)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(truth, exposed.anomaly_score(test)) > 0.9
    seen = []

    def spy(module, inputs, labels, batch_loss, schedule, generator, **kwargs):
        seen.append((kwargs["auxiliary"] is not None, kwargs["auxiliary_fraction"]))
        return real_train(module, inputs, labels, batch_loss, schedule, generator, **kwargs)

    import deepsad.models.deep as deep_module

    original = deep_module.train
    deep_module.train = spy
    try:
        DeepSAD(**FAST, batch_size=64, auxiliary_fraction=0.2).fit(X, X_auxiliary=auxiliary)
    finally:
        deep_module.train = original
    assert seen == [(False, 0.2), (True, 0.2)]  # pretraining without, the main stage with
    from deepsad.training import auxiliary_count

    assert auxiliary_count(64, 0.2) == 16 and auxiliary_count(100, 0.5) == 100 and auxiliary_count(3, 0.1) == 1
    with pytest.raises(TypeError, match="DeepSVDD takes no auxiliary anomalies"):
        DeepSVDD(**FAST).fit(X, X_auxiliary=auxiliary)
    with pytest.raises(ValueError, match="X_auxiliary: .*4 features"):
        DeepSAD(**FAST).fit(X, X_auxiliary=auxiliary[:, :2])


def test_a_uint8_baseline_is_scaled_as_the_images_are():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 1, 28, 28)).astype(np.uint8)
    model = DeepSAD(epochs=1, ae_epochs=1, random_state=0).fit(images)
    white = np.full((1, 1, 28, 28), 255, np.uint8)
    attributions = model.explain(images[:3], baseline=white, steps=16)
    difference = model.anomaly_score(images[:3]) - model.anomaly_score(white)[0]
    np.testing.assert_allclose(attributions.reshape(3, -1).sum(axis=1), difference, atol=0.05 * np.abs(difference).max())


def test_a_dataframe_or_series_baseline_is_matched_by_column_name():
    X, anomalies = _perturbed()
    columns = [f"c{i}" for i in range(6)]
    frame = pd.DataFrame(X, columns=columns)
    model = DeepSAD(epochs=1, ae_epochs=1, random_state=0).fit(frame)
    new = pd.DataFrame(anomalies[:5], columns=columns)
    baseline = frame.iloc[:1]
    expected = model.explain(new, baseline=baseline.to_numpy(), steps=8)
    shuffled = baseline[columns[::-1]]  # the same sample, its columns in another order
    np.testing.assert_allclose(model.explain(new, baseline=shuffled, steps=8), expected)
    np.testing.assert_allclose(model.explain(new, baseline=shuffled.iloc[0], steps=8), expected)
    with pytest.raises(ValueError, match=r"baseline's columns must be the model's: missing \['c5'\], unknown \['z'\]"):
        model.explain(new, baseline=baseline.rename(columns={"c5": "z"}), steps=8)
