import re

import numpy as np
import pandas as pd
import pytest

from deepsad.cli.user_data import (
    UserData,
    fit_model,
    label_summary,
    read_data_file,
    score_data,
    semi_supervised_labels,
)
from deepsad.data.readers import DataFileError
from tests.conftest import TINY


def _sensor_table(n_normal=200, n_anomalous=12, seed=0) -> pd.DataFrame:
    """Normal readings near 0, anomalous ones far away; five anomalies labeled, the rest empty."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n_normal, 3)), rng.normal(6, 1, size=(n_anomalous, 3))])
    label = np.full(len(X), np.nan)
    label[n_normal : n_normal + 5] = -1
    return pd.DataFrame(X, columns=["temp", "pressure", "flow"]).assign(label=label)


def test_empty_label_cells_are_unlabeled(tmp_path):
    _sensor_table().to_csv(tmp_path / "train.csv", index=False)
    data = read_data_file(tmp_path / "train.csv", label_column="label")
    labels = semi_supervised_labels(data, "label column 'label'")
    assert labels.dtype == np.int8 and labels.shape == (212,)
    assert (labels == -1).sum() == 5 and (labels == 0).sum() == 207
    assert list(data.features.columns) == ["temp", "pressure", "flow"]
    assert label_summary(labels, 212) == "212 samples: 5 known anomalies, 0 known normal, 207 unlabeled"


@pytest.mark.parametrize("values, found", [([0, 2, -1], "[2]"), ([0, "bad", -1], "['bad']")])
def test_labels_outside_the_convention_name_the_column_and_values(values, found):
    data = UserData(np.zeros((3, 2)), np.array(values, dtype=object), None)
    with pytest.raises(ValueError, match=r"label column 'y' must hold \+1.*found " + re.escape(found)):
        semi_supervised_labels(data, "label column 'y'")


def test_no_labels_gives_none():
    assert semi_supervised_labels(UserData(np.zeros((3, 2)), None, None), "labels") is None


def test_uint8_images_are_scaled_to_unit_range(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(10, 1, 8, 8), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    data = read_data_file(tmp_path / "images.npy")
    assert data.features.dtype == np.float32
    np.testing.assert_allclose(data.features, images / 255.0, rtol=1e-6)


def test_fit_then_score_finds_the_anomalies(tmp_path):
    table = _sensor_table()
    table.to_csv(tmp_path / "train.csv", index=False)
    data = read_data_file(tmp_path / "train.csv", label_column="label")
    model = fit_model("deepsad", data, semi_supervised_labels(data, "labels"), {**TINY, "epochs": 20, "ae_epochs": 20},
                      seed=0, device="cpu")
    scores = score_data(model, read_data_file(tmp_path / "train.csv", label_column="label"))
    assert list(scores.columns) == ["anomaly_score", "prediction"] and len(scores) == 212
    np.testing.assert_array_equal(scores["prediction"], model.predict(data.features))
    # The unlabeled anomalies (rows 205..211) rank above every normal reading.
    assert scores["anomaly_score"][205:].min() > scores["anomaly_score"][:200].max()


def test_scoring_a_table_with_other_columns_is_refused(tmp_path):
    table = _sensor_table()
    table.to_csv(tmp_path / "train.csv", index=False)
    table[["pressure", "temp", "flow"]].to_csv(tmp_path / "reordered.csv", index=False)
    data = read_data_file(tmp_path / "train.csv", label_column="label")
    model = fit_model("deepsvdd", data, None, TINY, seed=0, device="cpu")
    with pytest.raises(ValueError, match="feature names"):
        score_data(model, read_data_file(tmp_path / "reordered.csv"))


def test_baselines_cannot_be_fitted_for_saving():
    with pytest.raises(ValueError, match="method must be one of .*'deepsad'.*got 'ocsvm'"):
        fit_model("ocsvm", UserData(np.zeros((10, 2)), None, None), None, {}, seed=0, device="cpu")


def test_label_column_on_an_array_file_is_an_error(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"label_column \(--label-column\) applies to tables"):
        read_data_file(tmp_path / "x.npy", label_column="label")


def test_unparseable_table_names_the_file(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,x\n")
    with pytest.raises(DataFileError, match=r"t\.csv"):
        read_data_file(tmp_path / "t.csv")
