"""Pretrained autoencoders kept on disk, so that a pretraining stage runs once for every fit
that would repeat it exactly.

In the paper's grids the labeled fraction γl, the weight η and the known anomaly classes change
only the few labeled samples. With ``pretrain_on="unlabeled"`` the autoencoder of every one of
those fits trains on the same samples, from the same initial weights, in the same minibatch
order: the same training. ``fit_many(..., pretrained=PretrainingCache(folder))`` trains it for
the first fit and loads it for the others.

An entry is found by the SHA-256 of everything the stage's result depends on: the networks'
architecture and initial weights (which the seed decides), the samples it trains on, its
schedule, the state of the minibatch generator, the device type and the deepsad and torch
versions. It holds the trained weights, the generator's state after the stage (so the main
stage draws the minibatches it would have drawn) and the stage's training log; a fit that loads
it continues exactly as if it had trained it. Entries are written atomically and checked by a
hash of their contents when read; a damaged one is trained again and replaced.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import safetensors.torch
import torch

from deepsad._version import __version__
from deepsad.files import write_atomically
from deepsad.models.persistence import safetensors_header
from deepsad.user_warnings import warn

SUFFIX = ".pretrained.safetensors"
GENERATOR_STATE = "__generator_state__"


class PretrainingCache:
    """A folder of pretrained autoencoders (``fit_many``'s ``pretrained``).

    ``trained`` and ``reused`` count the stages stored and loaded by this object.

    Example
    -------
    >>> cache = PretrainingCache("results.pretrained")  # doctest: +SKIP
    >>> fit_many(estimators, Xs, ys, pretrained=cache)  # doctest: +SKIP
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.trained = 0
        self.reused = 0

    def key(self, module: torch.nn.Module, inputs: torch.Tensor, schedule, generator: torch.Generator) -> str:
        """What training ``module`` (before training) on ``inputs`` with ``schedule`` and
        ``generator`` (in its present state) depends on, as a hex SHA-256."""
        digest = hashlib.sha256()
        description = {
            "architecture": repr(module),
            "schedule": repr(schedule),
            "inputs": {"shape": list(inputs.shape), "dtype": str(inputs.dtype)},
            "device": inputs.device.type,
            "versions": {"deepsad": __version__, "torch": torch.__version__},
        }
        digest.update(json.dumps(description, sort_keys=True).encode())
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode())
            digest.update(_bytes(tensor))
        digest.update(_bytes(inputs))
        digest.update(_bytes(generator.get_state()))
        return digest.hexdigest()

    def load(self, key: str, module: torch.nn.Module, generator: torch.Generator) -> dict | None:
        """Put the stored stage into ``module`` and ``generator`` and return its training log;
        None when there is no intact entry for ``key``."""
        path = self.directory / f"{key}{SUFFIX}"
        try:
            payload = path.read_bytes()
            tensors = safetensors.torch.load(payload)
            metadata = json.loads(safetensors_header(payload)["__metadata__"]["deepsad_pretraining"])
            if metadata["sha256"] != _digest(tensors, metadata["log"]):
                return None
            generator_state = tensors.pop(GENERATOR_STATE)
            module.load_state_dict(tensors)
            generator.set_state(generator_state)
        except Exception:  # noqa: BLE001 - missing, damaged or of another architecture: trained again
            return None
        self.reused += 1
        return metadata["log"]

    def save(self, key: str, module: torch.nn.Module, generator: torch.Generator, log: dict) -> bool:
        """Store the trained stage: ``module``'s state, ``generator``'s state and its log.
        Returns whether it was stored; a folder that cannot be written only warns (the fit
        has its result; later fits train the stage again)."""
        tensors = {name: t.detach().cpu().contiguous() for name, t in module.state_dict().items()}
        tensors[GENERATOR_STATE] = generator.get_state()
        metadata = {"sha256": _digest(tensors, log), "log": log}
        payload = safetensors.torch.save(tensors, metadata={"deepsad_pretraining": json.dumps(metadata)})
        try:
            write_atomically(self.directory / f"{key}{SUFFIX}", payload)
        except OSError as error:
            warn(f"a pretraining could not be stored in {self.directory} ({error}); it is trained again where needed")
            return False
        self.trained += 1
        return True


def _bytes(tensor: torch.Tensor) -> bytes:
    return tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _digest(tensors: dict[str, torch.Tensor], log: dict) -> str:
    digest = hashlib.sha256(json.dumps(log, sort_keys=True).encode())
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(str(tensors[name].dtype).encode())
        digest.update(repr(tuple(tensors[name].shape)).encode())
        digest.update(_bytes(tensors[name]))
    return digest.hexdigest()

