"""Networks registered by name; one factory builds an encoder and its mirrored decoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from torch import nn


class NetworkBuilder(Protocol):
    def __call__(self, input_shape: tuple[int, ...], rep_dim: int | None, **options) -> "EncoderDecoder": ...


@dataclass
class EncoderDecoder:
    """An encoder φ (input → rep_dim) and a decoder mirroring it (rep_dim → input)."""

    encoder: nn.Module
    decoder: nn.Module
    rep_dim: int


_REGISTRY: dict[str, NetworkBuilder] = {}


def register_network(name: str) -> Callable[[NetworkBuilder], NetworkBuilder]:
    """Register a builder ``(input_shape, rep_dim, **options) -> EncoderDecoder`` by name."""

    def decorate(builder: NetworkBuilder) -> NetworkBuilder:
        if name in _REGISTRY:
            raise ValueError(f"a network named {name!r} is already registered")
        _REGISTRY[name] = builder
        return builder

    return decorate


def available_networks() -> list[str]:
    """Names accepted by ``build_network`` (besides "auto")."""
    return sorted(_REGISTRY)


def build_network(
    name: str, input_shape: tuple[int, ...], rep_dim: int | None = None, **options
) -> EncoderDecoder:
    """Build the registered network ``name`` for samples of ``input_shape``.

    Example
    -------
    >>> net = build_network("mlp", (9,), rep_dim=8, hidden_sizes=(32, 16))
    >>> net.rep_dim
    8
    """
    if name not in _REGISTRY:
        raise ValueError(
            f"network must be 'auto', an nn.Module or one of {available_networks()}; got {name!r}"
        )
    return _REGISTRY[name](tuple(input_shape), rep_dim, **options)


def auto_network_name(input_shape: tuple[int, ...]) -> str:
    """The paper's network for an input shape: LeNet-type for MNIST/CIFAR-10 sized images,
    an MLP for everything else (image shapes without a LeNet are flattened)."""
    if tuple(input_shape) == (1, 28, 28):
        return "mnist_lenet"
    if tuple(input_shape) == (3, 32, 32):
        return "cifar10_lenet"
    return "mlp"
