"""The deep detectors as scikit-learn estimators."""

from deepsad.models.autoencoder import Autoencoder
from deepsad.models.deep_sad import DeepSAD
from deepsad.models.deep_svdd import DeepSVDD
from deepsad.models.hsc import HSC
from deepsad.models.ssdgm import SSDGM
from deepsad.models.supervised import SupervisedClassifier

ESTIMATORS = {cls.__name__: cls for cls in (DeepSAD, DeepSVDD, HSC, Autoencoder, SupervisedClassifier, SSDGM)}

__all__ = ["Autoencoder", "DeepSAD", "DeepSVDD", "ESTIMATORS", "HSC", "SSDGM", "SupervisedClassifier"]
