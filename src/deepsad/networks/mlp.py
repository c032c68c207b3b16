"""Bias-free MLP for tabular data (the paper's ODDS networks)."""

from __future__ import annotations

import math

from torch import nn

from deepsad.networks.layers import batchnorm1d, leaky_relu
from deepsad.networks.registry import EncoderDecoder, register_network

# Inputs wider than this get the paper's wide MLP (chosen on the digits demo, where the narrow
# one fell clearly short: docs/defaults.md); the ODDS sets up to 36 features keep the narrow one.
WIDE_INPUT_FEATURES = 40


def auto_mlp_sizes(n_features: int) -> tuple[tuple[int, ...], int]:
    """Hidden sizes and rep_dim the paper used, by input width: 128-64-32 for wide tables
    (arrhythmia, 274 features), 32-16-8 for narrow ones (cardio, satellite, shuttle, ...)."""
    if n_features > WIDE_INPUT_FEATURES:
        return (128, 64), 32
    return (32, 16), 8


def _stack(sizes: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for width_in, width_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(width_in, width_out, bias=False), batchnorm1d(width_out), leaky_relu()]
    return layers


class MLPEncoder(nn.Module):
    """Linear → BatchNorm (no affine) → leaky ReLU per hidden layer, then a linear code layer.
    Image-shaped input is flattened."""

    def __init__(self, n_features: int, hidden_sizes: tuple[int, ...], rep_dim: int):
        super().__init__()
        self.hidden = nn.Sequential(nn.Flatten(), *_stack([n_features, *hidden_sizes]))
        self.code = nn.Linear(([n_features, *hidden_sizes])[-1], rep_dim, bias=False)

    def forward(self, x):
        return self.code(self.hidden(x))


class MLPDecoder(nn.Module):
    """The encoder reversed; a linear output so any input scale can be reconstructed."""

    def __init__(self, input_shape: tuple[int, ...], hidden_sizes: tuple[int, ...], rep_dim: int):
        super().__init__()
        self.input_shape = tuple(input_shape)
        n_features = math.prod(input_shape)
        reversed_sizes = [rep_dim, *reversed(hidden_sizes)]
        self.hidden = nn.Sequential(*_stack(reversed_sizes))
        self.reconstruction = nn.Linear(reversed_sizes[-1], n_features, bias=False)

    def forward(self, z):
        return self.reconstruction(self.hidden(z)).view(-1, *self.input_shape)


@register_network("mlp")
def build_mlp(
    input_shape: tuple[int, ...], rep_dim: int | None = None, hidden_sizes=None
) -> EncoderDecoder:
    n_features = math.prod(input_shape)
    auto_hidden, auto_rep = auto_mlp_sizes(n_features)
    hidden = tuple(int(h) for h in (auto_hidden if hidden_sizes is None else hidden_sizes))
    rep_dim = auto_rep if rep_dim is None else int(rep_dim)
    if rep_dim <= 0 or any(h <= 0 for h in hidden):
        raise ValueError(f"hidden_sizes and rep_dim must be positive; got {hidden} and {rep_dim}")
    return EncoderDecoder(
        MLPEncoder(n_features, hidden, rep_dim), MLPDecoder(input_shape, hidden, rep_dim), rep_dim
    )
