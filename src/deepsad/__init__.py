"""deepsad: deep semi-supervised anomaly detection (Deep SAD, Deep SVDD, HSC and baselines).

Example
-------
>>> import numpy as np
>>> from deepsad import DeepSAD, ANOMALY, UNLABELED
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(size=(300, 5)), rng.normal(3, 1, size=(10, 5))])
>>> y = np.r_[np.full(300, UNLABELED), np.full(5, ANOMALY), np.full(5, UNLABELED)]
>>> model = DeepSAD(epochs=5, ae_epochs=5, random_state=0).fit(X, y)
>>> model.predict(X).shape
(310,)
"""

from deepsad._version import __version__
from deepsad.labels import ANOMALY, NORMAL, UNLABELED
from deepsad.models import HSC, SSDGM, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier
from deepsad.models.persistence import load_model as load

__all__ = [
    "ANOMALY",
    "HSC",
    "SSDGM",
    "NORMAL",
    "UNLABELED",
    "Autoencoder",
    "DeepSAD",
    "DeepSVDD",
    "SupervisedClassifier",
    "__version__",
    "load",
]
