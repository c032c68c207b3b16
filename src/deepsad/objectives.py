"""The training objectives as pure functions of embeddings, center, labels and parameters.

Each returns the mean loss over a minibatch; weight decay λ is the optimizer's job.
Notation as in Ruff et al. (ICLR 2020): d(x) = ‖φ(x) − c‖².
"""

from __future__ import annotations

import torch

from deepsad.labels import ANOMALY


def deep_sad_loss(
    distances: torch.Tensor, labels: torch.Tensor, eta: float, eps: float
) -> torch.Tensor:
    """Deep SAD: d for unlabeled samples, η·(d + eps)^ỹ for labeled ones (ỹ = ±1).

    Known normals are pulled in (η·(d+eps)), known anomalies pushed out (η/(d+eps)).
    With every label 0 this is Deep SVDD's one-class loss.
    """
    labeled = labels != 0
    labeled_term = eta * (distances + eps) ** labels.to(distances.dtype)
    return torch.where(labeled, labeled_term, distances).mean()


def one_class_loss(distances: torch.Tensor) -> torch.Tensor:
    """Deep SVDD (One-Class): the mean squared distance to the center."""
    return distances.mean()


def soft_boundary_loss(distances: torch.Tensor, radius: float, nu: float) -> torch.Tensor:
    """Deep SVDD soft-boundary: R² + 1/ν · mean(max(0, d − R²)), with R held fixed."""
    squared_radius = radius**2
    return squared_radius + torch.clamp(distances - squared_radius, min=0).mean() / nu


def soft_boundary_radius(distances: torch.Tensor, nu: float) -> float:
    """The optimal R for fixed weights: the (1 − ν)-quantile of ‖φ(x) − c‖ over the
    training data. At most a fraction ν of points then lie outside the sphere (ν-property)."""
    return float(torch.quantile(distances.detach().double().sqrt(), 1.0 - nu).item())


def hsc_h(embeddings: torch.Tensor, h: str) -> torch.Tensor:
    """The HSC's radial function: ‖z‖² ("squared") or sqrt(‖z‖² + 1) − 1 ("pseudo-huber")."""
    squared_norm = (embeddings**2).sum(dim=1)
    if h == "squared":
        return squared_norm
    if h == "pseudo-huber":
        # Written as ‖z‖² / (sqrt(‖z‖² + 1) + 1), which equals sqrt(‖z‖² + 1) − 1 without its
        # cancellation: in float32 the subtraction loses every digit below 1e-7 (an ulp of 1),
        # i.e. most of h for embeddings near the center, where the scores must be exact.
        return squared_norm / (torch.sqrt(squared_norm + 1.0) + 1.0)
    raise ValueError(f"h must be 'pseudo-huber' or 'squared'; got {h!r}")


def hsc_loss(h_values: torch.Tensor, labels: torch.Tensor, eta: float, eps: float) -> torch.Tensor:
    """Hypersphere Classifier: binary cross-entropy with p(normal) = exp(−h(φ(x))).

    Unlabeled and known normal: h; known anomalies: −log(1 − exp(−h)), weighted by η
    like Deep SAD's labeled terms. ``expm1`` keeps the anomaly term accurate for small h.
    """
    anomaly_term = -torch.log(-torch.expm1(-h_values.clamp(min=eps)))
    per_sample = torch.where(labels == ANOMALY, anomaly_term, h_values)
    weights = torch.where(labels != 0, eta, 1.0).to(h_values.dtype)
    return (weights * per_sample).mean()


def reconstruction_error(reconstruction: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared reconstruction error (the autoencoder's anomaly score)."""
    return ((reconstruction - inputs) ** 2).flatten(1).mean(dim=1)
