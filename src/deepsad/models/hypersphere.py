"""What the hypersphere methods (Deep SAD, Deep SVDD, HSC) share: an encoder φ with a center
c placed at the mean embedding, and the checks for hypersphere collapse, the trivial solution
that maps every input to c."""

from __future__ import annotations

import math

import torch

from deepsad.labels import ANOMALY
from deepsad.models.objective import Networks, Objective
from deepsad.networks import collapse_risks
from deepsad.training import INFERENCE_BATCH_SIZE, batched_forward
from deepsad.user_warnings import warn

CENTER_MIN_ABS = 0.1
"""Center coordinates nearer zero than this are pushed out to ±CENTER_MIN_ABS: a zero
coordinate is trivially matched by zero weights feeding that unit (Ruff et al., 2018)."""

COLLAPSE_RELATIVE_VARIANCE = 1e-8
"""Embeddings whose total variance is below this fraction of ‖c‖² are treated as collapsed."""



class HypersphereObjective(Objective):
    """The part the hypersphere objectives share: the encoder φ and the center c, placed at
    the mean embedding of the training data without the known anomalies (after pretraining).
    c is fixed (a buffer) unless ``learns_center`` (then a parameter trained with φ). A
    subclass gives ``batch_loss`` and ``score``, written with ``embed_centered``."""

    learns_center = False

    def assemble(self, networks: Networks) -> None:
        self.encoder = networks["encoder"]
        center = torch.zeros(networks.rep_dim, device=networks.device)
        if self.learns_center:
            self.center = torch.nn.Parameter(center)
        else:
            self.register_buffer("center", center)

    def start(self, inputs, labels, generator) -> None:
        warn_if_collapse_prone(self.encoder)
        with torch.no_grad():
            self.center.copy_(initial_center(self.encoder, inputs[labels != ANOMALY]))

    def embed_centered(self, batch: torch.Tensor) -> torch.Tensor:
        """φ(x) − c of each sample."""
        return self.encoder(batch) - self.center

    def squared_distances(self, batch: torch.Tensor) -> torch.Tensor:
        """‖φ(x) − c‖² of each sample."""
        return (self.embed_centered(batch) ** 2).sum(dim=1)

    def finish(self, inputs, labels) -> dict:
        return collapse_report(self.encoder, self.center, inputs[labels != ANOMALY])


def initial_center(encoder: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Mean embedding of ``inputs`` (eval mode, every sample), with |c_k| < 0.1 → ±0.1."""
    encoder.eval()
    center = batched_forward(encoder, inputs, INFERENCE_BATCH_SIZE, inputs.device).double().mean(dim=0)
    near_zero = center.abs() < CENTER_MIN_ABS
    center[near_zero & (center < 0)] = -CENTER_MIN_ABS
    center[near_zero & (center >= 0)] = CENTER_MIN_ABS
    return center.float().to(inputs.device)


def warn_if_collapse_prone(encoder: torch.nn.Module) -> None:
    """Warn when a (user's) encoder has parts that let it map every input to the center."""
    risks = collapse_risks(encoder)
    if risks:
        warn(
            "the supplied network can map every input to the center (hypersphere collapse), a "
            "trivial solution the objective rewards: " + "; ".join(risks) + ". Use bias-free "
            "layers, BatchNorm without affine parameters and unbounded activations such as leaky ReLU.",
        )


def collapse_report(encoder: torch.nn.Module, center: torch.Tensor, normal_inputs: torch.Tensor) -> dict:
    """``{"embedding_variance": v, "collapsed": bool}`` of the trained encoder on the normal
    training inputs, warning when the embedding collapsed."""
    encoder.eval()
    embeddings = batched_forward(encoder, normal_inputs, INFERENCE_BATCH_SIZE, normal_inputs.device)
    collapsed, variance = embedding_collapsed(embeddings, center.detach().cpu())
    if collapsed:
        warn(
            f"the embedding collapsed: the training embeddings have (near-)zero variance "
            f"({variance:.3g}), so every input lands on the same point and the scores carry no "
            "information. Check the network for bias terms or bounded activations, or lower the "
            "learning rate / weight decay.",
        )
    return {"embedding_variance": variance, "collapsed": collapsed}


def embedding_collapsed(embeddings: torch.Tensor, center: torch.Tensor) -> tuple[bool, float]:
    """Whether all embeddings sit (almost) on one point, and their total variance."""
    variance = float(embeddings.double().var(dim=0, unbiased=False).sum())
    scale = max(float(center.double().pow(2).sum()), 1e-12)
    return (not math.isfinite(variance)) or variance < COLLAPSE_RELATIVE_VARIANCE * scale, variance
