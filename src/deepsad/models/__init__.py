"""The deep detectors as scikit-learn estimators, and loading them from model files."""

from deepsad.models.autoencoder import Autoencoder
from deepsad.models.deep_sad import DeepSAD
from deepsad.models.deep_svdd import DeepSVDD
from deepsad.models.fcdd import FCDD
from deepsad.models.hsc import HSC
from deepsad.models.many import fit_many, fit_many_recording_warnings
from deepsad.models.persistence import load_model
from deepsad.models.pretraining_cache import PretrainingCache
from deepsad.models.ssdgm import SSDGM
from deepsad.models.supervised import SupervisedClassifier

__all__ = ["FCDD", "HSC", "SSDGM", "Autoencoder", "DeepSAD", "DeepSVDD", "PretrainingCache", "SupervisedClassifier", "fit_many", "fit_many_recording_warnings", "load_model"]
