"""Deep SAD (Ruff et al., ICLR 2020)."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from deepsad.models.deep import DeepDetector, shared_parameters
from deepsad.models.hypersphere import HypersphereDetector
from deepsad.objectives import deep_sad_loss


class DeepSAD(HypersphereDetector):
    """Deep Semi-supervised Anomaly Detection.

    Unlabeled and known-normal samples are pulled towards a fixed center c, known anomalies
    (label -1) pushed away with the inverse loss η/(‖φ(x) − c‖² + eps). The anomaly score is
    ‖φ(x) − c‖². With no labels this is Deep SVDD (One-Class).

    Parameters
    ----------
    eta : float, default=1.0
        Weight of the labeled samples' terms (robust over 0.01 … 100, paper §4.3).
    eps : float, default=1e-6
        Keeps the inverse term finite for anomalies mapped onto c.
    **kwargs
        The shared deep-detector parameters: network, rep_dim, hidden_sizes, decoder, scaler,
        pretrain, epochs, lr, lr_milestones, batch_size, weight_decay, ae_* (the pretraining
        stage), contamination, device, random_state, verbose.

    Example
    -------
    >>> import numpy as np
    >>> from deepsad import DeepSAD
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 4)), rng.normal(4, 1, size=(10, 4))])
    >>> y = np.r_[np.zeros(200), -np.ones(5), np.zeros(5)]
    >>> model = DeepSAD(epochs=5, ae_epochs=5, random_state=0).fit(X, y)
    >>> model.anomaly_score(X).shape
    (210,)
    """

    _parameter_constraints = {
        **DeepDetector._parameter_constraints,
        "eta": [Interval(Real, 0, None, closed="neither")],
        "eps": [Interval(Real, 0, None, closed="neither")],
    }

    @shared_parameters
    def __init__(self, *, eta=1.0, eps=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.eta = eta
        self.eps = eps

    def _batch_loss(self, batch, labels):
        return deep_sad_loss(self._squared_distances(batch), labels, self.eta, self.eps)

    def _score_batch(self, batch):
        return self._squared_distances(batch)
