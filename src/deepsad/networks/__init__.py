"""Encoders and mirrored decoders, registered by name (importing a module registers it)."""

from deepsad.networks import cifar10_lenet, fmnist_lenet, mlp, mnist_lenet  # noqa: F401  (registration)
from deepsad.networks.checks import collapse_risks, has_convolutions
from deepsad.networks.registry import (
    EncoderDecoder,
    auto_network_name,
    available_networks,
    build_network,
    register_network,
)

__all__ = [
    "EncoderDecoder",
    "auto_network_name",
    "available_networks",
    "build_network",
    "collapse_risks",
    "has_convolutions",
    "register_network",
]
