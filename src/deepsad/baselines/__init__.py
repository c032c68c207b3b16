"""Shallow competitors of the deep methods, behind the same estimator interface.

OC-SVM, Isolation Forest and KDE are unsupervised (they leave known anomalies out of
training and warn that labels are ignored); SSAD learns from labeled normals and anomalies.
Hybrid fits any of them on the bottleneck codes of an autoencoder.
"""

from deepsad.baselines.hybrid import Hybrid
from deepsad.baselines.isolation_forest import IsolationForest
from deepsad.baselines.kde import KDE
from deepsad.baselines.ocsvm import OCSVM
from deepsad.baselines.ssad import SSAD

__all__ = ["Hybrid", "IsolationForest", "KDE", "OCSVM", "SSAD"]
