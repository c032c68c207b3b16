"""The deep detectors as scikit-learn estimators."""

from deepsad.models.autoencoder import Autoencoder
from deepsad.models.deep_sad import DeepSAD
from deepsad.models.deep_svdd import DeepSVDD
from deepsad.models.hsc import HSC

ESTIMATORS = {cls.__name__: cls for cls in (DeepSAD, DeepSVDD, HSC, Autoencoder)}

__all__ = ["Autoencoder", "DeepSAD", "DeepSVDD", "ESTIMATORS", "HSC"]
