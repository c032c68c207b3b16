"""scikit-learn's estimator checks on every deep estimator (small, fast configurations).

The checks pass class labels (0, 1, 2, ...) as ``y``; in deepsad ``y`` carries semi-supervised
labels (+1/0/-1) and other values are rejected by design (tested in test_bad_input.py). The
checks therefore run on subclasses that fit without ``y``, which tests everything else.
"""

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepsad import HSC, Autoencoder, DeepSAD, DeepSVDD

SMALL = dict(epochs=2, ae_epochs=2, batch_size=64, ae_batch_size=64, random_state=0)


class _FitsWithoutY:
    def fit(self, X, y=None):
        return super().fit(X)


class ChecksDeepSAD(_FitsWithoutY, DeepSAD):
    pass


class ChecksDeepSVDD(_FitsWithoutY, DeepSVDD):
    pass


class ChecksHSC(_FitsWithoutY, HSC):
    pass


class ChecksAutoencoder(_FitsWithoutY, Autoencoder):
    pass


ESTIMATORS = [
    ChecksDeepSAD(**SMALL),
    ChecksDeepSVDD(**SMALL),
    ChecksDeepSVDD(objective="soft-boundary", **SMALL),
    ChecksHSC(**SMALL),
    ChecksAutoencoder(**SMALL),
]


@pytest.mark.slow
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)
