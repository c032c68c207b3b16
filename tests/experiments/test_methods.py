import pytest

from deepsad.experiments.methods import METHODS
from tests.estimators import CASES, NEEDS_ANOMALIES, UNSUPERVISED


def _case(name: str) -> str:
    method = METHODS[name]
    if method.detector is not None:  # a hybrid handles labels as its shallow detector does
        return method.detector
    return "DeepSVDD-soft" if name == "deepsvdd-soft" else method.estimator


@pytest.mark.parametrize("name", sorted(METHODS))
def test_the_method_table_says_how_each_estimator_treats_labels(name):
    labels = CASES[_case(name)].labels
    assert METHODS[name].ignores_labels == (labels == UNSUPERVISED), name
    assert METHODS[name].needs_labeled_anomalies == (labels == NEEDS_ANOMALIES), name
