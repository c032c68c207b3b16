"""Model files: a safetensors file (tensors only, so loading executes no code) whose header
carries the parameters and fitted state as JSON, plus a SHA-256 over that JSON and every
tensor, so a damaged file is refused instead of giving wrong scores. Written to a temporary
file, then renamed; read in one piece, so a load never mixes two versions of a file that is
saved over meanwhile.

The checksum detects damage (truncation, flipped bits, an edit by hand); it cannot stop a
forger who recomputes it. So every value is also checked before use (``_restore_fitted_state``):
its JSON type and range, and each tensor's name, dtype, shape and finiteness against the
network the parameters describe, built first on the "meta" device, which allocates nothing: a
file cannot make loading allocate more than the tensors it holds.

Format 2 (what this version writes): the header entry ``deepsad`` is the metadata JSON, and
``deepsad_sha256`` the digest of its exact text and of the tensors (``model_digest``). Format 1
(deepsad 0.1.0) stored ``tensor_sha256``, a digest of the tensors only, inside the JSON; such
files are still read, with the same checks of every value.

One registry names the estimators a file may hold (``savable``); saving and loading are the
same for all of them: an estimator gives its fitted state as JSON values and named tensors
(``_fitted_state``) and rebuilds itself from them (``_restore_fitted_state``).
"""

from __future__ import annotations

import hashlib
import json
import math
import reprlib
from pathlib import Path

import numpy as np
import safetensors.torch
import torch

from deepsad._version import MODEL_FORMAT_VERSION, __version__
from deepsad.files import write_atomically
from deepsad.parameters import check_parameters

METADATA_KEY = "deepsad"
DIGEST_KEY = "deepsad_sha256"
READABLE_FORMATS = (1, MODEL_FORMAT_VERSION)
MAX_FILE_BYTES = 4 * 2**30
"""Larger files are refused before they are read (a wrong path, not a model of this library)."""
MAX_HEADER_BYTES = 16 * 2**20
"""The JSON header's limit: deepsad writes kilobytes (a long ``history_`` makes a few MB)."""
MAX_SAMPLE_VALUES = 2**24
"""A sample (``input_shape_``) of more values is refused: loading runs a user's network once on
two zero samples, an allocation the file's tensors do not bound."""
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


def model_digest(metadata_text: str, tensors: dict[str, torch.Tensor]) -> str:
    """The SHA-256 (hex) of a format-2 model file: the metadata JSON's exact text, then each
    tensor's name, dtype, shape and bytes, by name; each part is prefixed with its length so
    that no two different files give the same sequence of bytes."""
    digest = hashlib.sha256()

    def part(data) -> None:
        data = memoryview(data).cast("B")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)

    part(metadata_text.encode("utf-8"))
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        part(name.encode("utf-8"))
        part(str(tensor.dtype).encode())
        part(json.dumps(list(tensor.shape)).encode())
        part(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _format_1_digest(tensors: dict[str, torch.Tensor]) -> str:
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


EXTENSION_KEY = "extension"
EXTENSION_PREFIX = "extension."
"""A wrapper around a savable estimator (``deepsad.decisions.CalibratedDetector``) stores its
own state in the estimator's file: a metadata entry ``{"name": ..., "entry": {...}}`` under this
key and tensors whose names start with this prefix, all under the file's checksum."""


def save_model(estimator, path, *, extension: tuple[str, dict, dict[str, torch.Tensor]] | None = None) -> None:
    """Write a fitted savable estimator to ``path`` atomically; ``extension`` — (name, JSON
    entry, tensors) — is a wrapper's state, stored beside it (``EXTENSION_KEY``)."""
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
    }
    if extension is not None:
        extension_name, entry, extension_tensors = extension
        metadata[EXTENSION_KEY] = {"name": extension_name, "entry": jsonable(entry)}
        tensors.update({EXTENSION_PREFIX + k: v.detach().cpu().contiguous() for k, v in extension_tensors.items()})
    text = json.dumps(metadata)
    header = {METADATA_KEY: text, DIGEST_KEY: model_digest(text, tensors)}
    write_atomically(path, safetensors.torch.save(tensors, metadata=header))


def read_model_file(path) -> tuple[dict, dict[str, torch.Tensor]]:
    """The metadata and tensors of a model file whose checksum matches, or a ValueError saying
    what is wrong. The file is read once, in one piece."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a model file")
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path} has {size} bytes, more than a deepsad model file may have ({MAX_FILE_BYTES})")
    data = path.read_bytes()
    try:
        header = safetensors_header(data)
        tensors = safetensors.torch.load(data)
    except Exception as error:
        raise ValueError(f"{path} is not a readable deepsad model file (damaged or another format): {error}") from error
    entries = header.get("__metadata__") or {}
    if METADATA_KEY not in entries:
        raise ValueError(f"{path} is a safetensors file but not a deepsad model (no deepsad metadata)")
    text = entries[METADATA_KEY]
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the model metadata is damaged ({error})") from error
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: the model metadata is damaged (a JSON {_json_type(metadata)}, not an object)")
    found = metadata.get("format_version")
    if type(found) is not int or found not in READABLE_FORMATS:
        writer = metadata.get("library_version")
        raise ValueError(
            f"{path} was written by deepsad {writer[:40] if isinstance(writer, str) else '?'} in model format "
            f"{_shown(found)}; this deepsad {__version__} reads formats {', '.join(map(str, READABLE_FORMATS))}"
        )
    if found == 1:
        intact = _format_1_digest(tensors) == metadata.get("tensor_sha256")
    else:
        intact = model_digest(text, tensors) == entries.get(DIGEST_KEY)
    if not intact:
        raise ValueError(f"{path} is damaged: its contents do not match the checksum stored with them")
    return metadata, tensors


def safetensors_header(data: bytes) -> dict:
    """The JSON header of a safetensors file: a little-endian u64 length, then the JSON."""
    if len(data) < 8:
        raise ValueError(f"{len(data)} bytes are too few for a safetensors file")
    length = int.from_bytes(data[:8], "little")
    if length > min(MAX_HEADER_BYTES, len(data) - 8):
        raise ValueError(f"the header length {length} exceeds the file's {len(data)} bytes or {MAX_HEADER_BYTES}")
    header = json.loads(data[8 : 8 + length])
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header


# Parameters that estimators of deepsad 0.1.0 accepted but ignored, and that are no longer
# parameters of theirs: a file of that version records them, and loading drops them.
IGNORED_BY_EARLIER_VERSIONS = {
    "Autoencoder": {"pretrain", "epochs", "lr", "lr_milestones", "batch_size", "weight_decay"},
    "SSDGM": {"network", "decoder", "pretrain", "ae_epochs", "ae_lr", "ae_lr_milestones", "ae_batch_size",
              "ae_weight_decay"},
}

# Parameters added after a file format was in use, with the value that gives the behaviour the
# earlier versions had: a file without them loads with that value (they affect training only).
ADDED_BY_LATER_VERSIONS = {"pretrain_on": "all", "auxiliary_fraction": 0.5}


def load_model(path, *, network: torch.nn.Module | None = None, decoder: torch.nn.Module | None = None, device="auto"):
    """Read a model written by ``save`` (a file with a wrapper's state is refused: ``deepsad.load``
    reads those).

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
    estimator, extension = load_model_and_extension(path, network=network, decoder=decoder, device=device)
    if extension is not None:
        raise ValueError(f"{path} holds a model with a {_shown(extension[0])} around it; load it with deepsad.load")
    return estimator


def load_model_and_extension(path, *, network=None, decoder=None, device="auto"):
    """``load_model``'s estimator and the file's extension (name, JSON entry, tensors without
    the prefix), or None where it has none."""
    metadata, tensors = read_model_file(path)
    extension = None
    if EXTENSION_KEY in metadata:
        stored = metadata[EXTENSION_KEY]
        if not (isinstance(stored, dict) and set(stored) == {"name", "entry"} and isinstance(stored["name"], str)
                and isinstance(stored["entry"], dict)):  # fmt: skip
            raise ValueError(f"{path}: the model's {EXTENSION_KEY!r} entry is damaged")
        extension = (stored["name"], stored["entry"],
                     {k[len(EXTENSION_PREFIX):]: v for k, v in tensors.items() if k.startswith(EXTENSION_PREFIX)})
        tensors = {k: v for k, v in tensors.items() if not k.startswith(EXTENSION_PREFIX)}
    return _estimator_from(path, metadata, tensors, network, decoder, device), extension


def _estimator_from(path, metadata: dict, tensors: dict, network, decoder, device):
    name = _entry(path, metadata, "estimator", str)
    if name not in SAVABLE_ESTIMATORS:
        raise ValueError(f"{path} holds an unknown estimator {_shown(name)}; known: {sorted(SAVABLE_ESTIMATORS)}")
    cls = SAVABLE_ESTIMATORS[name]
    params = dict(_entry(path, metadata, "params", dict))
    fitted = _entry(path, metadata, "fitted", dict)
    for key in IGNORED_BY_EARLIER_VERSIONS.get(name, ()):
        params.pop(key, None)
    expected = cls._get_param_names()
    for key, value in ADDED_BY_LATER_VERSIONS.items():
        if key in expected:
            params.setdefault(key, value)
    unknown = sorted(set(params) - set(expected))
    if unknown:
        raise ValueError(f"{path}: the model's parameters include {_shown(unknown[0])}, which is not a parameter of {name}")
    missing = [key for key in expected if key not in params]
    if missing:
        raise ValueError(f"{path}: the model's parameters lack {missing[0]!r}, a parameter of {name}")
    supplied = {"network": network, "decoder": decoder}
    for key in MODULE_PARAMETERS:
        if isinstance(params.get(key), dict) and CUSTOM_MODULE in params[key]:
            if supplied[key] is None:
                raise ValueError(
                    f"{path} was fitted with a custom {_shown(params[key][CUSTOM_MODULE])} as {key}; pass a "
                    f"fresh instance of it: deepsad.load(path, {key}=...)"
                )
            params[key] = supplied[key]
    for key in ("lr_milestones", "ae_lr_milestones"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    params["device"] = device
    estimator = cls(**params)
    try:
        check_parameters(estimator)
        estimator._restore_fitted_state(fitted, tensors)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    return estimator


def _entry(path, metadata: dict, key: str, kind: type):
    if key not in metadata:
        raise ValueError(f"{path}: the model metadata has no {key!r} entry")
    value = metadata[key]
    if not isinstance(value, kind):
        raise ValueError(
            f"{path}: the model metadata's {key!r} must be a JSON {_json_type(kind())}; got {_shown(value)}"
        )
    return value


# ----------------------------------------------- checks of the values a model file holds
# Each takes a value parsed from JSON and returns it as the estimator keeps it, or raises a
# ValueError whose message completes "the fitted value 'name' ...".


def finite_number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"must be a finite number; got {_shown(value)}")
    return float(value)


def positive_int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"must be a positive int; got {_shown(value)}")
    return value


def sample_shape(value) -> tuple[int, ...]:
    if (
        not isinstance(value, list)
        or len(value) not in (1, 3)
        or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in value)
    ):
        raise ValueError(f"must be a sample's shape, 1 or 3 positive ints; got {_shown(value)}")
    if math.prod(value) > MAX_SAMPLE_VALUES:
        raise ValueError(f"asks for samples of {math.prod(value)} values, more than {MAX_SAMPLE_VALUES}")
    return tuple(value)


def optional_str(value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"must be a string or null; got {_shown(value)}")
    return value


def json_object(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object; got {_shown(value)}")
    return value


def str_list(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of strings; got {_shown(value)}")
    return value


def checked_values(values: dict, checks: dict, optional: tuple[str, ...] = ()) -> dict:
    """``values`` passed through ``checks`` (name → check); a ValueError names the entry that
    is missing, unknown or invalid."""
    for name in checks:
        if name not in values and name not in optional:
            raise ValueError(f"the fitted value {name!r} is missing")
    for name in values:
        if name not in checks:
            raise ValueError(f"the fitted values include {_shown(name)}, which this estimator does not have")
    checked = {}
    for name, value in values.items():
        try:
            checked[name] = checks[name](value)
        except ValueError as error:
            raise ValueError(f"the fitted value {name!r} {error}") from None
    return checked


def check_tensor(name: str, tensor: torch.Tensor, dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    """Raise a ValueError unless ``tensor`` has ``dtype`` and ``shape`` and, if floating-point,
    finite values."""
    _check_layout(name, tensor, dtype, shape)
    _check_finite(name, tensor)


def check_tensors_fit(needed: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor]) -> None:
    """Raise a ValueError unless ``tensors`` are exactly ``needed`` (a state_dict, possibly on the
    meta device): the same names, and for each the same dtype and shape, with finite values."""
    missing = sorted(set(needed) - set(tensors))
    unexpected = sorted(set(tensors) - set(needed))
    try:
        if missing:
            raise ValueError(f"the file lacks the tensor {missing[0]!r}")
        if unexpected:
            raise ValueError(f"the file holds a tensor {_shown(unexpected[0])} that the network does not have")
        for name, tensor in needed.items():
            _check_layout(name, tensors[name], tensor.dtype, tuple(tensor.shape))
    except ValueError as error:
        raise ValueError(f"the weights do not fit the network: {error}") from None
    for name, tensor in tensors.items():
        _check_finite(name, tensor)


def _check_layout(name: str, tensor: torch.Tensor, dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    if tensor.dtype != dtype or tuple(tensor.shape) != tuple(shape):
        raise ValueError(
            f"the tensor {name!r} is {_described(tensor.dtype, tensor.shape)} in the file, where "
            f"{_described(dtype, shape)} is needed"
        )


def _check_finite(name: str, tensor: torch.Tensor) -> None:
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"the tensor {name!r} holds non-finite values (NaN or infinity)")


def _described(dtype: torch.dtype, shape) -> str:
    return f"{str(dtype).removeprefix('torch.')} of shape {tuple(shape)}"


def _json_type(value) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _shown(value) -> str:
    """``repr(value)``, shortened: a file may hold anything, and a message must stay one line."""
    return reprlib.repr(value)
