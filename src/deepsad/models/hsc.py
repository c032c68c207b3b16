"""The Hypersphere Classifier (Ruff et al., "Rethinking Assumptions in Deep Anomaly Detection";
thesis "Deep One-Class Learning", ch. 5)."""

from __future__ import annotations

import warnings
from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from deepsad.labels import ANOMALY
from deepsad.models.deep import DeepDetector, shared_parameters
from deepsad.models.hypersphere import HypersphereDetector
from deepsad.objectives import hsc_h, hsc_loss


class CenteredEncoder(torch.nn.Module):
    """φ(x) − c with c learned: the bias of the last layer, safe because anomalies are seen."""

    def __init__(self, encoder: torch.nn.Module, center: torch.Tensor):
        super().__init__()
        self.encoder = encoder
        self.center = torch.nn.Parameter(center.clone())

    def forward(self, x):
        return self.encoder(x) - self.center


class HSC(HypersphereDetector):
    """Hypersphere Classifier: binary cross-entropy with p(normal | x) = exp(−h(φ(x) − c)).

    Unlabeled and known-normal samples minimise h, known anomalies minimise
    −log(1 − exp(−h)), weighted by η. The center c is learned (initialised at the mean
    pretrained embedding). Score: h(φ(x) − c). Needs labeled anomalies; without them the
    objective has a collapsed optimum.

    Example
    -------
    >>> import numpy as np
    >>> from deepsad import HSC
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 4)), rng.normal(4, 1, size=(20, 4))])
    >>> y = np.r_[np.zeros(200), -np.ones(20)]
    >>> HSC(epochs=5, ae_epochs=5, random_state=0).fit(X, y).anomaly_score(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **DeepDetector._parameter_constraints,
        "h": [StrOptions({"pseudo-huber", "squared"})],
        "eta": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, None, closed="neither")],
    }

    @shared_parameters
    def __init__(self, *, h="pseudo-huber", eta=1.0, eps=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.h = h
        self.eta = eta
        self.eps = eps

    def _prepare_training(self, labels):
        if not bool((labels == ANOMALY).any()):
            warnings.warn(
                "HSC was given no labeled anomalies (-1); its learned center can then map every "
                "input to one point. Label some anomalies or use DeepSAD/DeepSVDD.",
                UserWarning,
                stacklevel=4,
            )
        self._centered = CenteredEncoder(self.encoder_, self.center_)

    def _trainable_module(self):
        return self._centered

    def _after_training(self, normal_inputs):
        self.center_ = self._centered.center.detach()

    def _batch_loss(self, batch, labels):
        return hsc_loss(hsc_h(self._centered(batch), self.h), labels, self.eta, self.eps)

    def _score_batch(self, batch):
        return hsc_h(self._embed(batch) - self.center_, self.h)
