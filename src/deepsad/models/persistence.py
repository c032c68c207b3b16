"""Model files: a safetensors file (tensors only, so loading executes no code) whose header
carries the parameters and fitted state as JSON, plus a hash of the tensor bytes so a damaged
file is refused instead of giving wrong scores. Written to a temporary file, then renamed."""

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


def _tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _jsonable(value):
    """Parameters and fitted values as JSON; nn.Modules are recorded by class name only."""
    if isinstance(value, torch.nn.Module):
        return {CUSTOM_MODULE: type(value).__name__}
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.random.RandomState | np.random.Generator):
        return None
    return value


def save_model(estimator, path) -> None:
    """Write a fitted deep estimator to ``path`` atomically."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in estimator._state_tensors().items()}
    metadata = {
        "format_version": MODEL_FORMAT_VERSION,
        "library_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _jsonable(estimator.get_params(deep=False)),
        "fitted": _jsonable(estimator._fitted_metadata()),
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


def load_model(path, *, network: torch.nn.Module | None = None, decoder: torch.nn.Module | None = None, device="auto"):
    """Read a model written by ``save``. A model built on a custom nn.Module needs a fresh
    instance of the same architecture as ``network`` (and ``decoder`` for an Autoencoder)."""
    from deepsad.models import ESTIMATORS

    metadata, tensors = read_model_file(path)
    name = metadata["estimator"]
    if name not in ESTIMATORS:
        raise ValueError(f"{path} holds an unknown estimator {name!r}; known: {sorted(ESTIMATORS)}")
    params = dict(metadata["params"])
    for key, module in (("network", network), ("decoder", decoder)):
        if isinstance(params.get(key), dict) and CUSTOM_MODULE in params[key]:
            if module is None:
                raise ValueError(
                    f"{path} was fitted with a custom {params[key][CUSTOM_MODULE]} as {key}; pass a "
                    f"fresh instance of it: deepsad.load(path, {key}=...)"
                )
            params[key] = module
    for key in ("lr_milestones", "ae_lr_milestones"):
        params[key] = tuple(params[key])
    params["device"] = device
    estimator = ESTIMATORS[name](**params)
    try:
        estimator._restore(metadata["fitted"], tensors)
    except RuntimeError as error:  # load_state_dict: the supplied network does not fit the weights
        raise ValueError(f"{path}: the weights do not fit the network: {error}") from error
    return estimator
