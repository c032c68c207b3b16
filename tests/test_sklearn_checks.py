"""scikit-learn's estimator checks on every detector of ``tests/estimators.CASES`` that takes tables.

The checks pass class or regression targets (0, 1, 2, ...) as y; in deepsad y holds
semi-supervised labels and other values are refused by design (``test_contract.py``). So each
estimator is checked as a subclass whose ``fit`` replaces the checks' y by labels of its
family: none for unsupervised and semi-supervised methods, the first sample labeled as an
anomaly for those that need labeled anomalies.
"""

import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from tests.estimators import CASES, NEEDS_ANOMALIES


def _first_sample_anomalous(X):
    n_samples = X.shape[0] if hasattr(X, "shape") else len(np.asarray(X))
    labels = np.zeros(n_samples, dtype=int)
    if n_samples > 1:
        labels[0] = -1
    return labels


def checked(name):
    """The case's estimator as an instance of a subclass that fits with its family's labels."""
    estimator = CASES[name].make()
    cls = type(estimator)
    make_labels = _first_sample_anomalous if CASES[name].labels == NEEDS_ANOMALIES else lambda X: None

    def fit(self, X, y=None):
        return cls.fit(self, X, make_labels(X))

    subclass_name = f"Checked{cls.__name__}"
    if subclass_name not in globals():  # module-level, so that the checks can pickle instances
        globals()[subclass_name] = type(subclass_name, (cls,), {"fit": fit, "__module__": __name__})
    return globals()[subclass_name](**estimator.get_params(deep=False))


NOT_STRICT = {
    # The network's float32 codes of a sample can differ in the last bits with the number of
    # rows in its batch (the matrix-multiply kernel changes), and the OC-SVM's decision carries
    # that above the check's tolerance on some hardware.
    ("Hybrid", "check_methods_subset_invariance"),
}


TABLE_CASES = sorted(name for name, case in CASES.items() if not case.samples.are_images)
"""scikit-learn's checks fit tables; a detector that takes only images (FCDD) refuses them by
design and keeps the same contract on images in ``test_contract.py``."""


@parametrize_with_checks([checked(name) for name in TABLE_CASES])
def test_sklearn_compatible(estimator, check):
    name = type(estimator).__name__[len("Checked"):]
    check_name = getattr(check, "func", check).__name__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if (name, check_name) in NOT_STRICT:
            try:
                check(estimator)
            except AssertionError as error:
                pytest.xfail(f"{check_name}: {error}")
        else:
            check(estimator)
