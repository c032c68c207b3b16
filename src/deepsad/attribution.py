"""Integrated gradients (Sundararajan et al., ICML 2017) of a differentiable score.

For a score F, an input x and a baseline x', the attribution of input feature i is

    IG_i(x) = (x_i − x'_i) · ∫₀¹ ∂F/∂x_i (x' + a (x − x')) da,

approximated here with the midpoint rule on ``steps`` points. The attributions add up to
F(x) − F(x') (completeness) up to the rule's error, which ``integrated_gradients`` reports. A
per-feature affine change of the inputs (the tables' standard and min-max scaling) leaves them
unchanged, so attributions computed on scaled inputs are those of the raw features.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import torch

DEFAULT_STEPS = 64
POINTS_PER_PASS = 8192
"""Path points evaluated in one forward and backward pass (memory bound)."""


@dataclass(frozen=True)
class IntegratedGradients:
    """Attributions (shape of the inputs) with the scores they explain.

    ``scores`` are F(x), ``baseline_scores`` F(x'); ``completeness_error`` is
    |Σ attributions − (F(x) − F(x'))| per sample, the numerical error of the integral.
    """

    attributions: torch.Tensor
    scores: torch.Tensor
    baseline_scores: torch.Tensor
    completeness_error: torch.Tensor


def integrated_gradients(
    score: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    baseline: torch.Tensor,
    steps: int = DEFAULT_STEPS,
) -> IntegratedGradients:
    """Integrated gradients of ``score`` (a batch of inputs → one score each) at ``inputs``
    from ``baseline`` (one input, broadcast to every sample), on the inputs' device."""
    if not (isinstance(steps, numbers.Integral) and not isinstance(steps, bool) and steps >= 1):
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    steps = int(steps)
    inputs = inputs.detach()
    baseline = baseline.detach().to(inputs.device, inputs.dtype).expand_as(inputs[:1])
    alphas = (torch.arange(steps, device=inputs.device, dtype=inputs.dtype) + 0.5) / steps
    per_pass = max(1, POINTS_PER_PASS // steps)
    gradients = torch.empty_like(inputs)
    for start in range(0, len(inputs), per_pass):
        chunk = inputs[start : start + per_pass]
        shape = (steps, *([1] * chunk.dim()))
        path = (baseline + alphas.view(shape) * (chunk - baseline)).reshape(-1, *chunk.shape[1:])
        path.requires_grad_(True)
        with torch.enable_grad():
            total = score(path).sum()
            (gradient,) = torch.autograd.grad(total, path)
        gradients[start : start + per_pass] = gradient.reshape(steps, *chunk.shape).mean(dim=0)
    attributions = (inputs - baseline) * gradients
    with torch.no_grad():
        scores = score(inputs)
        baseline_scores = score(baseline).expand_as(scores)
    error = (attributions.flatten(1).sum(dim=1) - (scores - baseline_scores)).abs()
    return IntegratedGradients(attributions, scores, baseline_scores, error)
