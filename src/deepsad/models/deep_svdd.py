"""Deep SVDD (Ruff et al., ICML 2018): One-Class and soft-boundary objectives."""

from __future__ import annotations

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from deepsad.models.deep import SCORING_BATCH_SIZE, DeepDetector, shared_parameters
from deepsad.models.hypersphere import HypersphereDetector
from deepsad.objectives import one_class_loss, soft_boundary_loss, soft_boundary_radius
from deepsad.training import batched_forward

# Soft-boundary: R stays 0 for the first epochs (the embedding is still moving fast), then
# is re-solved in closed form on all training embeddings every few epochs and after training.
RADIUS_WARM_UP_EPOCHS = 10
RADIUS_UPDATE_EVERY = 5


class DeepSVDD(HypersphereDetector):
    """Deep Support Vector Data Description (unsupervised).

    ``objective="one-class"`` minimises the mean ‖φ(x) − c‖² (score: that distance);
    ``"soft-boundary"`` learns a sphere of radius R with at most a fraction ν of the training
    data outside (score: ‖φ(x) − c‖² − R², positive outside). Labels are not used: samples
    labeled as anomalies (-1) are left out of training and known normals count as
    unlabeled, with a warning saying so.

    Example
    -------
    >>> import numpy as np
    >>> from deepsad import DeepSVDD
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> model = DeepSVDD(objective="soft-boundary", nu=0.1, epochs=5, ae_epochs=5, random_state=0).fit(X)
    >>> bool(model.radius_ > 0)
    True
    """

    _parameter_constraints = {
        **DeepDetector._parameter_constraints,
        "objective": [StrOptions({"one-class", "soft-boundary"})],
        "nu": [Interval(Real, 0, 1, closed="right")],
    }

    @shared_parameters
    def __init__(self, *, objective="one-class", nu=0.1, **kwargs):
        super().__init__(**kwargs)
        self.objective = objective
        self.nu = nu

    _uses_labels = False

    @property
    def _soft(self) -> bool:
        return self.objective == "soft-boundary"

    def _prepare_training(self, labels):
        self.radius_ = 0.0
        self.history_["radius"] = []

    def _after_epoch(self, epoch, normal_inputs):
        epochs_done = epoch + 1
        if self._soft and epochs_done >= RADIUS_WARM_UP_EPOCHS and epochs_done % RADIUS_UPDATE_EVERY == 0:
            self._solve_radius(normal_inputs)

    def _after_training(self, normal_inputs):
        if self._soft:
            self._solve_radius(normal_inputs)

    def _solve_radius(self, normal_inputs: torch.Tensor) -> None:
        self.encoder_.eval()
        distances = batched_forward(self._squared_distances, normal_inputs, SCORING_BATCH_SIZE, self.device_)
        self.radius_ = soft_boundary_radius(distances, self.nu)
        self.history_["radius"].append(self.radius_)

    def _batch_loss(self, batch, labels):
        distances = self._squared_distances(batch)
        if self._soft:
            return soft_boundary_loss(distances, self.radius_, self.nu)
        return one_class_loss(distances)

    def _score_batch(self, batch):
        return self._squared_distances(batch) - self.radius_**2

    def _natural_threshold(self):
        # The soft-boundary sphere is the method's own decision boundary (score 0).
        return 0.0 if self._soft else None

    _fitted_scalar_names = (*HypersphereDetector._fitted_scalar_names, "radius_")
