"""What every deep detector shares: parameters, input handling, network construction,
autoencoder pretraining, batched scoring, the threshold and the state saved to disk.

Subclasses define the training stage (``_fit_network``) and the score of a batch
(``_score_batch``); everything else lives here once.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from deepsad.base import AnomalyDetectorMixin
from deepsad.data.preprocessing import StandardMinMaxScaler
from deepsad.labels import ANOMALY
from deepsad.models.device import draw_seed, resolve_device
from deepsad.networks import auto_network_name, available_networks, build_network, collapse_risks
from deepsad.objectives import reconstruction_error
from deepsad.training import Schedule, TrainingLog, batched_forward, train
from deepsad.validation import check_has_normal_data, check_input, check_labels, unsupervised_training_set

# Inference needs no gradients, so larger batches than in training are cheap and faster.
SCORING_BATCH_SIZE = 1024
# Embeddings whose total variance is below this fraction of ‖c‖² are treated as collapsed.
COLLAPSE_RELATIVE_VARIANCE = 1e-8

_positive_int = Interval(Integral, 1, None, closed="left")
_non_negative_int = Interval(Integral, 0, None, closed="left")
_positive_real = Interval(Real, 0, None, closed="neither")
_non_negative_real = Interval(Real, 0, None, closed="left")


def _is_module(value) -> bool:
    return isinstance(value, torch.nn.Module)


class DeepDetector(AnomalyDetectorMixin, BaseEstimator):
    """Base class of the deep detectors; not used directly."""

    _parameter_constraints: dict = {
        "network": [StrOptions({"auto", *available_networks()}), callable],
        "rep_dim": [StrOptions({"auto"}), _positive_int],
        "hidden_sizes": [StrOptions({"auto"}), "array-like"],
        "decoder": [None, callable],
        "scaler": [StrOptions({"auto"}), None],
        "pretrain": ["boolean"],
        "epochs": [_non_negative_int],
        "lr": [_positive_real],
        "lr_milestones": ["array-like"],
        "batch_size": [_positive_int],
        "weight_decay": [_non_negative_real],
        "ae_epochs": [_non_negative_int],
        "ae_lr": [_positive_real],
        "ae_lr_milestones": ["array-like"],
        "ae_batch_size": [_positive_int],
        "ae_weight_decay": [_non_negative_real],
        "contamination": AnomalyDetectorMixin._contamination_constraint,
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["boolean"],
    }

    def __init__(
        self,
        *,
        network="auto",
        rep_dim="auto",
        hidden_sizes="auto",
        decoder=None,
        scaler="auto",
        pretrain=True,
        epochs=150,
        lr=1e-4,
        lr_milestones=(50,),
        batch_size=128,
        weight_decay=1e-6,
        ae_epochs=150,
        ae_lr=1e-4,
        ae_lr_milestones=(50,),
        ae_batch_size=128,
        ae_weight_decay=5e-4,
        contamination="auto",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.network = network
        self.rep_dim = rep_dim
        self.hidden_sizes = hidden_sizes
        self.decoder = decoder
        self.scaler = scaler
        self.pretrain = pretrain
        self.epochs = epochs
        self.lr = lr
        self.lr_milestones = lr_milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.ae_epochs = ae_epochs
        self.ae_lr = ae_lr
        self.ae_lr_milestones = ae_lr_milestones
        self.ae_batch_size = ae_batch_size
        self.ae_weight_decay = ae_weight_decay
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Fit on X (n, d) or (n, c, h, w) with semi-supervised labels y: +1 known normal,
        0 unlabeled, -1 known anomaly (None: all unlabeled)."""
        self._validate_params()
        X = check_input(self, X, reset=True)
        labels = check_labels(y, X.shape[0])
        check_has_normal_data(labels)
        if not self._uses_labels:
            X = unsupervised_training_set(self, X, labels, use_instead="DeepSAD")
            labels = np.zeros(X.shape[0], dtype=labels.dtype)
        if X.shape[0] < 2:
            raise ValueError(
                f"X has {X.shape[0]} sample(s); at least 2 are needed (BatchNorm and the "
                "center need more than one sample)"
            )
        self.device_ = resolve_device(self.device)
        seed = draw_seed(self.random_state)
        self._fit_scaler(X)
        inputs = torch.from_numpy(self._transform(X)).to(self.device_)
        label_tensor = torch.from_numpy(labels).to(self.device_)
        self.history_ = {}
        generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            encoder, decoder = self._build_networks()
        self._fit_network(encoder, decoder, inputs, label_tensor, generator)
        train_scores = self._score_tensor(inputs).numpy()
        self._set_threshold(train_scores[labels != ANOMALY])
        return self

    # Unsupervised methods set this to False: they train on the unlabeled and known-normal
    # samples as if all were unlabeled, and leave the known anomalies out.
    _uses_labels = True

    def _fit_scaler(self, X: np.ndarray) -> None:
        self.scaler_ = None
        if self.scaler == "auto" and X.ndim == 2:
            self.scaler_ = StandardMinMaxScaler().fit(X)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if self.scaler_ is None:
            return X
        return self.scaler_.transform(X).astype(np.float32)

    # ------------------------------------------------------------- networks
    def _build_networks(self) -> tuple[torch.nn.Module, torch.nn.Module | None]:
        """Encoder and decoder for the fitted input shape, on the device."""
        if _is_module(self.network):
            encoder = copy.deepcopy(self.network)
            decoder = copy.deepcopy(self.decoder) if self.decoder is not None else None
            self.network_name_, self.network_options_ = None, {}
            risks = collapse_risks(encoder)
            if risks:
                warnings.warn(
                    "the supplied network can map every input to the center (hypersphere "
                    "collapse), a trivial solution the objective rewards: "
                    + "; ".join(risks)
                    + ". Use bias-free layers, BatchNorm without affine parameters and "
                    "unbounded activations such as leaky ReLU.",
                    UserWarning,
                    stacklevel=3,
                )
        else:
            name = auto_network_name(self.input_shape_) if self.network == "auto" else self.network
            options = {}
            if self.hidden_sizes != "auto":
                if name != "mlp":
                    raise ValueError(f"hidden_sizes applies to network='mlp' only; the network is {name!r}")
                options["hidden_sizes"] = [int(h) for h in self.hidden_sizes]
            rep_dim = None if self.rep_dim == "auto" else int(self.rep_dim)
            built = build_network(name, self.input_shape_, rep_dim, **options)
            encoder, decoder = built.encoder, built.decoder
            self.network_name_ = name
            self.network_options_ = {"rep_dim": built.rep_dim, **options}
        encoder = encoder.to(self.device_)
        self.rep_dim_ = self._check_encoder_output(encoder)
        if decoder is not None:
            decoder = decoder.to(self.device_)
        return encoder, decoder

    def _check_encoder_output(self, encoder: torch.nn.Module) -> int:
        """A dry run on two zero samples: the network must map (n, ...) to (n, rep_dim)."""
        probe = torch.zeros((2, *self.input_shape_), device=self.device_)
        encoder.eval()
        try:
            with torch.no_grad():
                output = encoder(probe)
        except Exception as error:
            raise ValueError(
                f"network failed on input of shape {tuple(probe.shape)}: {error}"
            ) from error
        if not isinstance(output, torch.Tensor) or output.ndim != 2 or output.shape[0] != 2:
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
            raise ValueError(
                f"network must map a batch of shape (n, {', '.join(map(str, self.input_shape_))}) "
                f"to embeddings of shape (n, rep_dim); for n=2 it returned {shape}"
            )
        return int(output.shape[1])

    def _schedule(self, prefix: str = "") -> Schedule:
        return Schedule(
            epochs=int(getattr(self, f"{prefix}epochs")),
            learning_rate=float(getattr(self, f"{prefix}lr")),
            milestones=tuple(int(m) for m in getattr(self, f"{prefix}lr_milestones")),
            batch_size=int(getattr(self, f"{prefix}batch_size")),
            weight_decay=float(getattr(self, f"{prefix}weight_decay")),
        )

    def _train_autoencoder(self, encoder, decoder, inputs, labels, generator, description) -> TrainingLog:
        """Train encoder + decoder on mean squared reconstruction error."""
        if decoder is None:
            raise ValueError(
                "pretrain=True needs a decoder for a custom network: pass decoder=<nn.Module "
                "mapping embeddings back to inputs>, or set pretrain=False"
            )
        self._warn_if_images_not_unit_scaled(inputs)
        autoencoder = torch.nn.Sequential(encoder, decoder)

        def batch_loss(batch, _labels):
            reconstruction = autoencoder(batch)
            if reconstruction.shape != batch.shape:
                raise ValueError(
                    f"decoder must reconstruct inputs of shape {tuple(batch.shape[1:])}; "
                    f"it returned {tuple(reconstruction.shape[1:])}"
                )
            return reconstruction_error(reconstruction, batch).mean()

        return train(
            autoencoder, inputs, labels, batch_loss, self._schedule("ae_"), generator,
            description=description, verbose=self.verbose,
        )

    def _warn_if_images_not_unit_scaled(self, inputs: torch.Tensor) -> None:
        if inputs.ndim == 4 and (inputs.min() < 0 or inputs.max() > 1):
            warnings.warn(
                "image inputs are expected in [0, 1] (the decoders end in a sigmoid); scale "
                "pixels first, e.g. with deepsad.data.preprocessing.ImageScaler",
                UserWarning,
                stacklevel=4,
            )

    # -------------------------------------------------------------- scoring
    def _score_tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        """Anomaly scores of inputs (any device), batch by batch, in eval mode."""
        self._eval_mode()
        return batched_forward(self._score_batch, inputs, SCORING_BATCH_SIZE, self.device_)

    def _anomaly_score(self, X: np.ndarray) -> np.ndarray:
        inputs = torch.from_numpy(self._transform(X))
        return self._score_tensor(inputs).numpy().astype(np.float64)

    # -------------------------------------------------------- save and load
    def save(self, path) -> None:
        """Write the fitted model to ``path`` (a safetensors file that loads without running
        code). Load it with ``deepsad.load(path)``."""
        from deepsad.models.persistence import save_model

        check_is_fitted(self)
        save_model(self, path)

    _fitted_scalar_names = ("threshold_", "input_shape_", "n_features_in_", "rep_dim_",
                            "network_name_", "network_options_", "history_")

    def _fitted_metadata(self) -> dict:
        """Fitted state that is not a tensor, as JSON-compatible values."""
        metadata = {name: getattr(self, name) for name in self._fitted_scalar_names}
        if hasattr(self, "feature_names_in_"):
            metadata["feature_names_in_"] = [str(f) for f in self.feature_names_in_]
        return metadata

    def _restore(self, metadata: dict, tensors: dict[str, torch.Tensor]) -> None:
        """Rebuild the fitted estimator from saved metadata and tensors."""
        for name, value in metadata.items():
            setattr(self, name, value)
        self.input_shape_ = tuple(self.input_shape_)
        if "feature_names_in_" in metadata:
            self.feature_names_in_ = np.asarray(metadata["feature_names_in_"], dtype=object)
        self.device_ = resolve_device(self.device)
        encoder, decoder = self._build_networks()
        self._load_networks(encoder, decoder, tensors)
        self._restore_tensors(tensors)

    def _load_networks(self, encoder, decoder, tensors) -> None:
        self.encoder_ = encoder
        self.encoder_.load_state_dict(_with_prefix(tensors, "encoder."))

    def _state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"encoder.{k}": v for k, v in self.encoder_.state_dict().items()}
        if self.scaler_ is not None:
            for name in ("mean_", "scale_", "min_", "range_"):
                tensors[f"scaler.{name}"] = torch.from_numpy(getattr(self.scaler_, name))
        return tensors

    def _restore_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        scaler_parts = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith("scaler.")}
        self.scaler_ = None
        if scaler_parts:
            self.scaler_ = StandardMinMaxScaler()
            for name, value in scaler_parts.items():
                setattr(self.scaler_, name, value.numpy())
            self.scaler_.n_features_in_ = int(self.n_features_in_)

    def _eval_mode(self) -> None:
        self.encoder_.eval()



def shared_parameters(init):
    """Give a subclass ``__init__(self, own..., **shared)`` the full signature scikit-learn
    reads, so ``get_params``/``clone`` see every parameter without repeating them all."""
    own = [p for p in inspect.signature(init).parameters.values() if p.kind is not p.VAR_KEYWORD]
    shared = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(DeepDetector.__init__).parameters.values()
        if p.name != "self"
    ]
    init.__signature__ = inspect.Signature(own + shared)
    return init


def _with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def embedding_collapsed(embeddings: torch.Tensor, center: torch.Tensor) -> tuple[bool, float]:
    """Whether all embeddings sit (almost) on one point, and their total variance."""
    variance = float(embeddings.double().var(dim=0, unbiased=False).sum())
    scale = max(float(center.double().pow(2).sum()), 1e-12)
    return (not math.isfinite(variance)) or variance < COLLAPSE_RELATIVE_VARIANCE * scale, variance
