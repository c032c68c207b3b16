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
    if METHODS[name].images_only:  # outside the contract suite's tables (tests/models/test_fcdd.py)
        # FCDD learns from labeled anomalies and, without them, makes synthetic ones
        assert not METHODS[name].ignores_labels and not METHODS[name].needs_labeled_anomalies
        return
    labels = CASES[_case(name)].labels
    assert METHODS[name].ignores_labels == (labels == UNSUPERVISED), name
    assert METHODS[name].needs_labeled_anomalies == (labels == NEEDS_ANOMALIES), name
