"""Static checks of a user-supplied encoder for the architecture choices that invite collapse."""

from __future__ import annotations

from torch import nn

# Activations whose outputs saturate: a network built from them can map all inputs to one
# point (Ruff et al., 2018, Prop. 3), a trivial minimum of the Deep SVDD objective.
BOUNDED_ACTIVATIONS = (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Softsign, nn.Hardsigmoid, nn.Softmax)


def has_convolutions(module: nn.Module) -> bool:
    """Whether any part of ``module`` is a convolution (which decides its layout, threads and
    whether stacking it pays off on the CPU)."""
    return any(isinstance(part, nn.modules.conv._ConvNd) for part in module.modules())


def collapse_risks(encoder: nn.Module) -> list[str]:
    """Describe the parts of ``encoder`` that let it map every input to the center."""
    risks = []
    for name, module in encoder.named_modules():
        label = name or type(module).__name__
        if getattr(module, "bias", None) is not None and isinstance(module.bias, nn.Parameter):
            risks.append(f"layer {label!r} ({type(module).__name__}) has a bias term")
        if isinstance(module, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)):
            if getattr(module, "affine", False) or getattr(module, "elementwise_affine", False):
                risks.append(f"layer {label!r} ({type(module).__name__}) has affine parameters")
        if isinstance(module, BOUNDED_ACTIVATIONS):
            risks.append(f"layer {label!r} uses the bounded activation {type(module).__name__}")
    return risks
