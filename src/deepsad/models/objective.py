"""What one deep method supplies to the fit pipeline: its objective, as an ``nn.Module``.

An objective holds the networks it trains (as submodules) and the state it keeps besides their
weights (the center c as a buffer or parameter, the soft-boundary radius as a float). Its
``state_dict`` is what a model file stores, so a fitted objective is the fitted model:
``DeepDetector.model_``. The pipeline (``deepsad.models.deep``) calls, in this order:

``check_labels``  before anything is built: refuse (or warn about) labels it cannot learn from;
``targets``       the per-sample tensor ``batch_loss`` receives beside each batch: the labels,
                  or (FCDD with pixel masks) the labels with each sample's mask;
``assemble``      take its networks from the ones the estimator built (also when loading);
``start``         initialise its state from the training data, after pretraining (e.g. c);
``batch_loss``    the mean loss of a minibatch, minimised by ``deepsad.training.train``;
``after_epoch``   after each epoch's updates (e.g. re-solve the radius);
``finish``        after training: final state, and entries for ``history_``;
``score``         the anomaly score of a batch, in eval mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn


@dataclass
class Networks:
    """The networks built for one estimator, by role ("encoder", "decoder", ...), with the
    embedding dimension, the device, and how they were chosen (recorded in model files:
    the registered network's name and options, or None for a user's ``nn.Module``)."""

    modules: dict[str, nn.Module]
    rep_dim: int
    device: torch.device
    name: str | None = None
    options: dict = field(default_factory=dict)

    def __getitem__(self, role: str) -> nn.Module:
        return self.modules[role]


class Objective(nn.Module):
    """Base class of the objectives: the defaults are "nothing to do"."""

    uses_labels: bool = True
    """False for an unsupervised method: it trains on the unlabeled and known-normal samples
    alike and never sees the known anomalies."""

    fitted_values: tuple[str, ...] = ()
    """Float attributes that are fitted state (saved in the model file as JSON)."""

    stackable: bool = False
    """True when ``batch_loss`` depends only on the parameters, buffers and plain
    hyperparameters, draws no random numbers, and ``after_epoch`` does nothing: then models of
    one architecture can be trained together (``deepsad.stacking``, ``deepsad.fit_many``)."""

    natural_threshold: float | None = None
    """The method's own decision boundary on its score (e.g. 0 for the soft-boundary sphere),
    used by ``contamination="auto"``; None if it has none."""

    def check_labels(self, labels: np.ndarray) -> None:
        """Raise a ValueError (or warn) if the method cannot learn from these labels."""

    def targets(self, labels: np.ndarray, masks) -> torch.Tensor:
        """What ``batch_loss`` receives beside each batch, one row per training sample
        (auxiliary anomalies get rows filled with -1): the labels themselves. ``masks`` are
        pixel-level ground truth, which only an objective that learns from them accepts."""
        if masks is not None:
            raise TypeError("this method learns from sample labels only; pixel masks are for FCDD")
        return torch.from_numpy(labels)

    def assemble(self, networks: Networks) -> None:
        """Take the networks this objective trains and scores with, and create its state."""
        raise NotImplementedError

    def start(self, inputs: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> None:
        """Initialise the state from the training data (on the device) before training."""

    def batch_loss(self, batch: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The mean loss of a minibatch with its semi-supervised labels."""
        raise NotImplementedError

    def after_epoch(self, epoch: int) -> None:
        """Runs after the updates of epoch ``epoch`` (counted from 0)."""

    def finish(self, inputs: torch.Tensor, labels: torch.Tensor) -> dict:
        """Runs after training; returns entries for the estimator's ``history_``."""
        return {}

    def score(self, batch: torch.Tensor) -> torch.Tensor:
        """The anomaly score of each sample of a batch (higher = more anomalous)."""
        raise NotImplementedError
