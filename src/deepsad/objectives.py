"""The training losses as pure functions of distances, outputs, labels and parameters.

Each loss returns the mean over a minibatch; weight decay λ is the optimizer's job. Notation
as in Ruff et al. (ICLR 2020): d(x) = ‖φ(x) − c‖². The methods' ``Objective`` modules
(``deepsad.models``) compute these inputs from their networks and call these functions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from deepsad.labels import ANOMALY, UNLABELED

NORMAL_CLASS, ANOMALOUS_CLASS = 0, 1
"""The class indices of SS-DGM's classifier q(y | x)."""


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
        # An infinite ‖z‖² (an embedding beyond float32) would make that inf/inf = NaN; h is
        # then infinite too.
        finite = squared_norm / (torch.sqrt(squared_norm + 1.0) + 1.0)
        return torch.where(torch.isinf(squared_norm), squared_norm, finite)
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


def anomaly_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, anomaly_weight: float) -> torch.Tensor:
    """Binary cross-entropy with the labeled anomalies (-1) as the positive class and every
    other sample, unlabeled (0) or known normal (+1), as negative. ``anomaly_weight``
    multiplies the positive terms (1 is plain BCE)."""
    targets = (labels == ANOMALY).to(logits.dtype)
    pos_weight = torch.tensor(anomaly_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight)


def gaussian_kl(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, diag exp(log_variance)) ‖ N(0, I)) of each row, in closed form."""
    return 0.5 * (mean**2 + log_variance.exp() - 1.0 - log_variance).sum(dim=1)


def m2_loss(
    class_logits: torch.Tensor,
    negative_elbo: torch.Tensor,
    labels: torch.Tensor,
    classification_weight: float,
) -> torch.Tensor:
    """Mean of Kingma's M2 loss over a minibatch with semi-supervised labels (+1, 0, -1).

    Labeled: −ELBO(x, y) + w · (−log q(y | x)); unlabeled: the expected −ELBO minus the
    entropy of q(y | x), Σ_y q(y | x) (−ELBO(x, y) + log q(y | x)). ``negative_elbo`` is
    (n, 2): −ELBO(x, normal) and −ELBO(x, anomalous).
    """
    log_q = F.log_softmax(class_logits, dim=1)
    unlabeled_term = (log_q.exp() * (negative_elbo + log_q)).sum(dim=1)
    classes = torch.where(labels == ANOMALY, ANOMALOUS_CLASS, NORMAL_CLASS).long()[:, None]
    labeled_term = negative_elbo.gather(1, classes) - classification_weight * log_q.gather(1, classes)
    labeled_term = labeled_term.squeeze(1)
    return torch.where(labels != UNLABELED, labeled_term, unlabeled_term).mean()
