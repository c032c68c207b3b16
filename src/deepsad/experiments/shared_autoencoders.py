"""Autoencoders trained once and shared by every hybrid of a sweep that needs the same one.

A sweep over the hybrids runs OC-SVM, SSAD, Isolation Forest and KDE on the codes of an
autoencoder, each under two selection protocols, and every one of them would train the very same
autoencoder: same training samples, same parameters, same seed, six times per seed. Here the
first run trains it and saves it; the others load it.

A saved autoencoder is found by the SHA-256 of everything its training depends on: the training
samples (their bytes, shape and type), the autoencoder's parameters (its ``random_state``
included), the device it trains on, and the deepsad and torch versions. Training is deterministic
for a fixed seed on one device, so a loaded autoencoder is the one the run would have trained;
a changed data file or parameter gives another key and a fresh training, never a stale model.
Files are the library's model files (safetensors, written atomically), so two workers that train
the same autoencoder at once only write the same file twice.

Given the sweep's ``PretrainingCache``, an autoencoder not yet in the folder loads its training
from there where a deep method's pretraining was the same training (with ``pretrain_on =
"unlabeled"``, Deep SAD pretrains on exactly the samples a hybrid's autoencoder trains on), so a
hybrid beside Deep SAD trains no autoencoder of its own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from deepsad._version import __version__
from deepsad.models import PretrainingCache, fit_many
from deepsad.models.deep import TRAINING
from deepsad.models.device import resolve_device
from deepsad.models.persistence import jsonable, load_model

MODEL_SUFFIX = ".safetensors"


class FittedAutoencoder(FrozenEstimator):
    """A trained autoencoder that ``Hybrid.fit`` keeps as it is: cloning returns it and fitting
    does nothing (scikit-learn's ``FrozenEstimator``, whose ``fit`` wants a ``y`` the hybrid
    does not pass to an unsupervised autoencoder)."""

    def fit(self, X, y=None, **kwargs):
        return super().fit(X, y, **kwargs)


def with_fitted_autoencoder(hybrid, autoencoder):
    """``hybrid`` set to fit its detector on the codes of ``autoencoder``, already trained."""
    return hybrid.set_params(autoencoder=FittedAutoencoder(autoencoder))


class SharedAutoencoders:
    """A folder of trained autoencoders, keyed by what their training depends on.

    ``fitted(autoencoder, X)`` returns ``clone(autoencoder).fit(X)``, loading it from the folder
    when an earlier call trained the same one. ``trained`` and ``reused`` count the calls of
    each kind. With ``pretrained``, an autoencoder fitted here loads its training stage from
    that cache when one is stored (and stores it otherwise), as ``fit_many`` does.

    Example
    -------
    >>> shared = SharedAutoencoders("results.autoencoders")  # doctest: +SKIP
    >>> first = shared.fitted(Autoencoder(random_state=0), X)  # doctest: +SKIP
    >>> again = shared.fitted(Autoencoder(random_state=0), X)  # loaded, not trained  # doctest: +SKIP
    """

    def __init__(self, directory: str | Path, pretrained: PretrainingCache | None = None):
        self.directory = Path(directory)
        self.pretrained = pretrained
        self.trained = 0
        self.reused = 0

    def fitted(self, autoencoder, X: np.ndarray):
        key = training_key(autoencoder, X)
        if key is None:  # nothing to share: training it again would not give the same one
            self.trained += 1
            return clone(autoencoder).fit(X)
        path = self.directory / f"{key}{MODEL_SUFFIX}"
        if path.is_file():
            try:
                loaded = load_model(path, device=autoencoder.device)
            except ValueError:
                pass  # damaged (e.g. a full disk): train it again and replace the file
            else:
                self.reused += 1
                return loaded
        [fitted] = fit_many([clone(autoencoder)], [X], pretrained=self.pretrained)
        self.directory.mkdir(parents=True, exist_ok=True)
        fitted.save(path)
        if fitted.history_[TRAINING].get("loaded"):  # an earlier run's pretraining: trained there
            self.reused += 1
        else:
            self.trained += 1
        return fitted


def training_key(autoencoder, X: np.ndarray) -> str | None:
    """The SHA-256 (hex) of what training ``autoencoder`` on X depends on, or None when the
    training is not reproducible from its parameters: a custom ``nn.Module`` network (known
    only by its class name) or a ``random_state`` that is not an integer (fresh randomness)."""
    params = autoencoder.get_params(deep=False)
    if any(isinstance(value, torch.nn.Module) for value in params.values()):
        return None
    seed = params.get("random_state")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        return None
    params["device"] = resolve_device(params.get("device", "auto")).type
    X = np.ascontiguousarray(X)
    digest = hashlib.sha256()
    description = {
        "estimator": type(autoencoder).__name__,
        "params": jsonable(params),
        "data": {"shape": list(X.shape), "dtype": str(X.dtype)},
        "versions": {"deepsad": __version__, "torch": torch.__version__},
    }
    digest.update(json.dumps(description, sort_keys=True).encode())
    digest.update(X.tobytes())
    return digest.hexdigest()
