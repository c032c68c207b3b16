"""The encoder and decoder an estimator builds: a registered network by name, or the user's
own ``nn.Module``, checked by a dry run before any training."""

from __future__ import annotations

import copy

import torch
from torch import nn

from deepsad.models.objective import Networks
from deepsad.networks import auto_network_name, build_network


def encoder_and_decoder(
    network, rep_dim, hidden_sizes, decoder, input_shape: tuple[int, ...], device: torch.device
) -> Networks:
    """The estimator's ``network`` ("auto", a registered name, or an ``nn.Module``, deep-copied
    so the user's instance is never trained) with its decoder, on ``device``. A user's module
    comes with the user's ``decoder`` (None: no decoder)."""
    if isinstance(network, nn.Module):
        modules = {"encoder": copy.deepcopy(network)}
        if decoder is not None:
            modules["decoder"] = copy.deepcopy(decoder)
        name, options = None, {}
    else:
        name = auto_network_name(input_shape) if network == "auto" else network
        options = {}
        if not isinstance(hidden_sizes, str):  # a sequence (an array compares elementwise)
            if name != "mlp":
                raise ValueError(f"hidden_sizes applies to network='mlp' only; the network is {name!r}")
            options["hidden_sizes"] = [int(h) for h in hidden_sizes]
        built = build_network(name, input_shape, None if rep_dim == "auto" else int(rep_dim), **options)
        modules = {"encoder": built.encoder, "decoder": built.decoder}
        options = {"rep_dim": built.rep_dim, **options}
    modules = {role: module.to(device) for role, module in modules.items()}
    embedding_dim = embedding_dimension(modules["encoder"], input_shape, device)
    return Networks(modules, embedding_dim, device, name, options)


def embedding_dimension(encoder: nn.Module, input_shape: tuple[int, ...], device: torch.device) -> int:
    """A dry run on two zero samples: the encoder must map (n, ...) to (n, rep_dim)."""
    probe = torch.zeros((2, *input_shape), device=device)
    encoder.eval()
    try:
        with torch.no_grad():
            output = encoder(probe)
    except Exception as error:
        raise ValueError(f"network failed on input of shape {tuple(probe.shape)}: {error}") from error
    if not isinstance(output, torch.Tensor) or output.ndim != 2 or output.shape[0] != 2:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise ValueError(
            f"network must map a batch of shape (n, {', '.join(map(str, input_shape))}) "
            f"to embeddings of shape (n, rep_dim); for n=2 it returned {shape}"
        )
    return int(output.shape[1])
