"""Model files: a safetensors file (tensors only, so loading executes no code) whose header
carries the parameters and fitted state as JSON, plus a hash of the tensor bytes so a damaged
file is refused instead of giving wrong scores. Written to a temporary file, then renamed.

One registry names the estimators a file may hold (``savable``); saving and loading are the
same for all of them: an estimator gives its fitted state as JSON values and named tensors
(``_fitted_state``) and rebuilds itself from them (``_restore_fitted_state``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import torch

from deepsad._version import MODEL_FORMAT_VERSION, __version__
from deepsad.files import write_atomically

METADATA_KEY = "deepsad"
CUSTOM_MODULE = "custom nn.Module"
MODULE_PARAMETERS = ("network", "decoder")
"""Parameters that may hold a user's ``nn.Module``: recorded by class name only, and given
again at load time."""

SAVABLE_ESTIMATORS: dict[str, type] = {}
"""The estimator classes a model file may name, by class name."""


def savable(cls: type) -> type:
    """Class decorator: ``deepsad.load`` may rebuild instances of ``cls`` from model files."""
    if SAVABLE_ESTIMATORS.setdefault(cls.__name__, cls) is not cls:
        raise ValueError(f"another savable estimator is already named {cls.__name__!r}")
    return cls


def _tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def jsonable(value):
    """Parameters and fitted values as JSON; nn.Modules are recorded by class name only."""
    if isinstance(value, torch.nn.Module):
        return {CUSTOM_MODULE: type(value).__name__}
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.random.RandomState | np.random.Generator):
        return None
    return value


def save_model(estimator, path) -> None:
    """Write a fitted savable estimator to ``path`` atomically."""
    name = type(estimator).__name__
    if SAVABLE_ESTIMATORS.get(name) is not type(estimator):
        raise TypeError(f"{name} cannot be saved to a model file; savable: {sorted(SAVABLE_ESTIMATORS)}")
    fitted, tensors = estimator._fitted_state()
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    metadata = {
        "format_version": MODEL_FORMAT_VERSION,
        "library_version": __version__,
        "estimator": name,
        "params": jsonable(estimator.get_params(deep=False)),
        "fitted": jsonable(fitted),
        "tensor_sha256": _tensor_digest(tensors),
    }
    payload = safetensors.torch.save(tensors, metadata={METADATA_KEY: json.dumps(metadata)})
    write_atomically(path, payload)


def read_model_file(path) -> tuple[dict, dict[str, torch.Tensor]]:
    """The metadata and tensors of a model file, or a ValueError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with safetensors.safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    except Exception as error:
        raise ValueError(f"{path} is not a readable deepsad model file (damaged or another format): {error}") from error
    if METADATA_KEY not in header:
        raise ValueError(f"{path} is a safetensors file but not a deepsad model (no deepsad metadata)")
    try:
        metadata = json.loads(header[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the model metadata is damaged ({error})") from error
    found = metadata.get("format_version")
    if found != MODEL_FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by deepsad {metadata.get('library_version', '?')} in model format "
            f"{found}; this deepsad {__version__} reads format {MODEL_FORMAT_VERSION} only"
        )
    if _tensor_digest(tensors) != metadata.get("tensor_sha256"):
        raise ValueError(f"{path} is damaged: its weights do not match the checksum stored with them")
    return metadata, tensors


# Parameters that estimators of deepsad 0.1.0 accepted but ignored, and that are no longer
# parameters of theirs: a file of that version records them, and loading drops them.
IGNORED_BY_EARLIER_VERSIONS = {
    "Autoencoder": {"pretrain", "epochs", "lr", "lr_milestones", "batch_size", "weight_decay"},
    "SSDGM": {"network", "decoder", "pretrain", "ae_epochs", "ae_lr", "ae_lr_milestones", "ae_batch_size",
              "ae_weight_decay"},
}


def load_model(path, *, network: torch.nn.Module | None = None, decoder: torch.nn.Module | None = None, device="auto"):
    """Read a model written by ``save``.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    network, decoder : nn.Module or None, default=None
        A model fitted with a user's ``nn.Module`` needs a fresh instance of the same
        architecture (and of its decoder, for an ``Autoencoder``).
    device : str or torch.device, default="auto"
        Where to put the model: "auto" (CUDA when present), "cpu" or "cuda[:N]".

    Returns
    -------
    estimator
        The fitted estimator, scoring exactly as the saved one did.
    """
    metadata, tensors = read_model_file(path)
    name = metadata["estimator"]
    if name not in SAVABLE_ESTIMATORS:
        raise ValueError(f"{path} holds an unknown estimator {name!r}; known: {sorted(SAVABLE_ESTIMATORS)}")
    params = dict(metadata["params"])
    for key in IGNORED_BY_EARLIER_VERSIONS.get(name, ()):
        params.pop(key, None)
    supplied = {"network": network, "decoder": decoder}
    for key in MODULE_PARAMETERS:
        if isinstance(params.get(key), dict) and CUSTOM_MODULE in params[key]:
            if supplied[key] is None:
                raise ValueError(
                    f"{path} was fitted with a custom {params[key][CUSTOM_MODULE]} as {key}; pass a "
                    f"fresh instance of it: deepsad.load(path, {key}=...)"
                )
            params[key] = supplied[key]
    for key in ("lr_milestones", "ae_lr_milestones"):
        if key in params:
            params[key] = tuple(params[key])
    params["device"] = device
    estimator = SAVABLE_ESTIMATORS[name](**params)
    try:
        estimator._restore_fitted_state(metadata["fitted"], tensors)
    except RuntimeError as error:  # load_state_dict: the supplied network does not fit the weights
        raise ValueError(f"{path}: the weights do not fit the network: {error}") from error
    return estimator
