import numpy as np
import pytest

from deepsad.labels import ANOMALY, NORMAL, UNLABELED, from_binary


def test_from_binary_maps_the_anomaly_value_to_minus_one_and_the_rest_to_unlabeled():
    assert from_binary(np.array([0, 1, 1, 0])).tolist() == [UNLABELED, ANOMALY, ANOMALY, UNLABELED]
    assert from_binary([0, 1], others=NORMAL).tolist() == [NORMAL, ANOMALY]
    assert from_binary([True, False], anomaly=True).tolist() == [ANOMALY, UNLABELED]
    assert from_binary(["ok", "bad"], anomaly="bad").dtype == np.int8
    assert from_binary([0, 0, 0]).tolist() == [0, 0, 0]  # nothing marked anomalous


@pytest.mark.parametrize("y, kwargs, message", [
    ([0, 1, 2], {}, "must be binary"),
    ([0, 2], {}, "no label in y equals anomaly=1"),
    ([[0, 1]], {}, "1-D"),
    ([0, 1], {"others": -1}, "others must be"),
])
def test_from_binary_refuses_what_is_not_binary_labels(y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        from_binary(y, **kwargs)
