"""The fit pipeline of the deep detectors, with batched scoring and their fitted state.

A deep estimator is a configuration: a plain keyword-only ``__init__`` with its parameters,
``_build_networks`` (which networks, for the fitted input shape) and ``_training_plan`` (its
objective and schedules). ``DeepDetector.fit`` reads top to bottom:

    validate → scale → build networks → pretrain → start the objective (e.g. place the
    center) → train with the objective → set the threshold

and the fitted objective, an ``nn.Module``, is the fitted model (``model_``): scoring, eval
mode, saving and loading work on it alone, whatever the method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from deepsad.attribution import DEFAULT_STEPS, integrated_gradients
from deepsad.base import AnomalyDetectorMixin
from deepsad.labels import ANOMALY, UNLABELED
from deepsad.models.device import cpu_threads_for, draw_seed, resolve_device, torch_threads
from deepsad.models.objective import Networks, Objective
from deepsad.models.persistence import (
    check_tensor,
    check_tensors_fit,
    checked_values,
    finite_number,
    json_object,
    optional_str,
    positive_int,
    sample_shape,
    save_model,
    str_list,
)
from deepsad.models.reconstruction import ReconstructionObjective
from deepsad.networks import available_networks, has_convolutions
from deepsad.parameters import (
    BATCH_SIZE,
    CONTAMINATION,
    HIDDEN_SIZES,
    MILESTONES,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_REAL,
    POSITIVE_INT,
    POSITIVE_REAL,
    check_parameters,
    options,
)
from deepsad.preprocessing import StandardMinMaxScaler
from deepsad.training import INFERENCE_BATCH_SIZE, Schedule, batched_forward, train
from deepsad.validation import PIXEL_MAX, as_numpy, check_input, check_training_data

NETWORK_CONSTRAINTS = {
    "network": [options("auto", *available_networks()), torch.nn.Module],
    "rep_dim": [options("auto"), POSITIVE_INT],
    "hidden_sizes": [options("auto"), HIDDEN_SIZES],
    "decoder": [None, torch.nn.Module],
}
TRAINING_CONSTRAINTS = {
    "epochs": [NON_NEGATIVE_INT],
    "lr": [POSITIVE_REAL],
    "lr_milestones": [MILESTONES],
    "batch_size": [BATCH_SIZE],
    "weight_decay": [NON_NEGATIVE_REAL],
}
PRETRAINING_CONSTRAINTS = {
    "ae_epochs": [NON_NEGATIVE_INT],
    "ae_lr": [POSITIVE_REAL],
    "ae_lr_milestones": [MILESTONES],
    "ae_batch_size": [BATCH_SIZE],
    "ae_weight_decay": [NON_NEGATIVE_REAL],
}
COMMON_CONSTRAINTS = {
    "scaler": [options("auto"), None],
    "contamination": CONTAMINATION,
    "device": [str, torch.device],
    "random_state": ["random_state", np.random.Generator],
    "verbose": ["boolean"],
}
"""The parameter constraints of the deep estimators, by group; each estimator combines the
groups whose parameters it has."""


@dataclass(frozen=True)
class TrainingPlan:
    """What ``fit`` trains: the objective, the schedule of its stage, and the schedule of
    autoencoder pretraining (None: no pretraining; the encoder starts from random weights)."""

    objective: Objective
    schedule: Schedule
    pretraining: Schedule | None = None


PRETRAINING = "pretrain"
"""The name of the autoencoder pretraining stage (in ``history_``)."""
TRAINING = "train"
"""The name of the method's own training stage (in ``history_``)."""


@dataclass(frozen=True)
class Stage:
    """One training stage of a fit: its name in ``history_``, its objective, its schedule,
    what the progress bar calls it, and the training samples it trains on (indices; None: all)."""

    name: str
    objective: Objective
    schedule: Schedule
    description: str
    samples: torch.Tensor | None = None


@dataclass
class FitRun:
    """A fit in progress: the training data on the device (and the labels as NumPy), the
    generator of the minibatch order, the seeded networks and the stages, in order."""

    inputs: torch.Tensor
    labels: torch.Tensor
    label_values: np.ndarray
    generator: torch.Generator
    networks: Networks
    stages: list[Stage]
    threads: int | None = None
    """The torch threads to train with (``cpu_threads_for``; None: torch's setting)."""
    auxiliary: torch.Tensor | None = None
    """Outlier Exposure: auxiliary anomalies (scaled, on the device) for the main stage."""
    auxiliary_fraction: float = 0.5

    def data(self, stage: Stage) -> tuple[torch.Tensor, torch.Tensor]:
        """The inputs and labels the stage trains on."""
        if stage.samples is None:
            return self.inputs, self.labels
        return self.inputs[stage.samples], self.labels[stage.samples]

    def begin(self, stage: Stage) -> None:
        """Give the stage's objective its networks and let it initialise its state."""
        stage.objective.assemble(self.networks)
        stage.objective.start(*self.data(stage), self.generator)


def uses_channels_last(networks: Networks, inputs: torch.Tensor) -> bool:
    """Whether to train in the channels-last memory layout: convolutional networks on the CPU,
    where it runs the LeNets 1.35–1.45× faster on one thread (docs/benchmarks.md). The weights
    are the same numbers in another layout; model files store them contiguous."""
    if inputs.device.type != "cpu" or inputs.ndim != 4:
        return False
    return any(has_convolutions(network) for network in networks.modules.values())


TABLE_SCHEDULE = {"lr": 1e-3, "batch_size": 64}
"""What ``lr="auto"`` and ``batch_size="auto"`` (and their ``ae_`` twins) mean on tables:
10× the paper's learning rate and half its batch, which beat the paper's schedule and the
peers' defaults on the ODDS tables (docs/defaults.md)."""
IMAGE_SCHEDULE = {"lr": 1e-4, "batch_size": 128}
"""What they mean on images: the paper's."""


def training_schedule(estimator) -> Schedule:
    """The main stage's schedule from ``epochs``, ``lr``, ``lr_milestones``, ``batch_size``
    and ``weight_decay``, "auto" resolved for ``input_shape_`` (``TABLE_SCHEDULE``)."""
    e = estimator
    return _schedule(e.epochs, _resolved(e, "lr", e.lr), e.lr_milestones, _resolved(e, "batch_size", e.batch_size),
                     e.weight_decay)  # fmt: skip


def autoencoder_schedule(estimator) -> Schedule:
    """Autoencoder training's schedule from ``ae_epochs``, ``ae_lr``, ``ae_lr_milestones``,
    ``ae_batch_size`` and ``ae_weight_decay``, "auto" resolved as for the main stage."""
    e = estimator
    return _schedule(e.ae_epochs, _resolved(e, "lr", e.ae_lr), e.ae_lr_milestones,
                     _resolved(e, "batch_size", e.ae_batch_size), e.ae_weight_decay)  # fmt: skip


def _resolved(estimator, name: str, value):
    if not (isinstance(value, str) and value == "auto"):
        return value
    # input_shape_ is that of the data being fitted (set before the plan is made). A model file
    # being read makes its objective before its values are checked, and trains nothing: the
    # schedule is unused there, and the paper's values stand in.
    shape = getattr(estimator, "input_shape_", None)
    return (TABLE_SCHEDULE if shape is not None and len(shape) == 1 else IMAGE_SCHEDULE)[name]


def _schedule(epochs, lr, milestones, batch_size, weight_decay) -> Schedule:
    return Schedule(
        epochs=int(epochs),
        learning_rate=float(lr),
        milestones=tuple(int(m) for m in milestones),
        batch_size=int(batch_size),
        weight_decay=float(weight_decay),
    )


class DeepDetector(AnomalyDetectorMixin, BaseEstimator):
    """Base class of the deep detectors (not used directly): the fit pipeline, batched
    scoring and the fitted state, the same for every method.

    A subclass defines ``__init__`` (its parameters), ``_build_networks()`` returning
    ``Networks`` for ``input_shape_`` on ``device_``, and ``_training_plan()`` returning a
    ``TrainingPlan``.
    """

    def fit(self, X, y=None, *, X_auxiliary=None):
        """Fit the detector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Training data: a NumPy array, torch tensor or pandas DataFrame.
        y : array-like of shape (n_samples,), default=None
            Semi-supervised labels: +1 known normal, 0 unlabeled, -1 known anomaly (None:
            all unlabeled).
        X_auxiliary : array-like of the shape of X, default=None
            Outlier Exposure (the methods with ``auxiliary_fraction``): auxiliary anomalies,
            drawn at random into every minibatch of the main training stage as known
            anomalies, ``auxiliary_fraction`` of each batch. Any set of samples unlike the
            normal data serves (the thesis used 80 Million Tiny Images and ImageNet-22k for
            images; those are not bundled).

        Returns
        -------
        self
            The fitted detector.
        """
        return self._fit(X, y, X_auxiliary)

    def _fit(self, X, y, X_auxiliary=None, masks=None):
        """The pipeline of ``fit``; ``masks``: pixel-level ground truth (FCDD)."""
        try:
            run = self._start_fit(X, y, X_auxiliary, masks)
            with torch_threads(run.threads):
                for stage in run.stages:
                    run.begin(stage)
                    self._train_stage(run, stage)
                return self._finish_fit(run)
        except BaseException:
            self._forget_fit()  # never half refitted: a new scaler next to an old model
            raise

    def _forget_fit(self) -> None:
        """Remove every fitted attribute (scikit-learn's trailing underscore): unfitted again."""
        for name in [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]:
            delattr(self, name)

    def _train_stage(self, run: FitRun, stage: Stage) -> None:
        """Train the stage's objective (after ``run.begin(stage)``) and log it in ``history_``."""
        objective = stage.objective
        main = stage is run.stages[-1]  # Outlier Exposure trains the method, not the autoencoder
        log = train(
            objective, *run.data(stage), objective.batch_loss, stage.schedule, run.generator,
            description=stage.description, verbose=self.verbose, on_epoch_end=objective.after_epoch,
            auxiliary=run.auxiliary if main else None, auxiliary_fraction=run.auxiliary_fraction,
        )
        self.history_[stage.name] = vars(log)

    def _start_fit(self, X, y, X_auxiliary=None, masks=None) -> FitRun:
        """Validate and scale the data, build the seeded networks: everything before training."""
        check_parameters(self)
        fraction = getattr(self, "auxiliary_fraction", None)
        if X_auxiliary is not None and fraction is None:
            raise TypeError(
                f"{type(self).__name__} takes no auxiliary anomalies (Outlier Exposure); DeepSAD, HSC and FCDD do"
            )
        check_input(self, X, reset=True)  # the input's shape resolves an "auto" schedule
        plan = self._training_plan()
        objective = plan.objective
        X, labels = check_training_data(self, X, y, uses_labels=objective.uses_labels, use_instead="DeepSAD")
        if X.shape[0] < 2:
            raise ValueError(
                f"X has {X.shape[0]} sample(s); at least 2 are needed (BatchNorm and the "
                "center need more than one sample)"
            )
        # Auxiliary anomalies are labeled anomalies too (a method that needs some has them).
        objective.check_labels(labels if X_auxiliary is None else np.r_[labels, ANOMALY])
        targets = objective.targets(labels, masks)
        self.device_ = resolve_device(self.device)
        seed = draw_seed(self.random_state)
        # With pretrain_on="unlabeled", the scaling statistics and the pretraining come from the
        # unlabeled samples alone, which the labeled ones of a grid (γl, η, known classes) leave
        # the same: one pretraining then serves all of them (PretrainingCache).
        unlabeled = None
        if plan.pretraining is not None and getattr(self, "pretrain_on", "all") == "unlabeled":
            if not np.any(labels == UNLABELED):
                raise ValueError("pretrain_on='unlabeled' needs unlabeled samples (label 0); y has none")
            unlabeled = np.flatnonzero(labels == UNLABELED)
        scaled_on = X if unlabeled is None else X[unlabeled]
        self.scaler_ = StandardMinMaxScaler().fit(scaled_on) if self.scaler == "auto" and X.ndim == 2 else None
        stages = [Stage(TRAINING, objective, plan.schedule, type(self).__name__)]
        if plan.pretraining is not None:
            samples = None if unlabeled is None else torch.from_numpy(unlabeled).to(self.device_)
            stages.insert(0, Stage(PRETRAINING, ReconstructionObjective(), plan.pretraining, "pretraining", samples))
        self.history_ = {}
        networks = self._seeded_networks(seed)
        inputs = torch.from_numpy(self._transform(X)).to(self.device_)
        if uses_channels_last(networks, inputs):
            inputs = inputs.contiguous(memory_format=torch.channels_last)
            for module in networks.modules.values():
                module.to(memory_format=torch.channels_last)
        auxiliary = None
        if X_auxiliary is not None:
            try:
                auxiliary = check_input(self, X_auxiliary, reset=False)
            except (TypeError, ValueError) as error:
                raise type(error)(f"X_auxiliary: {error}") from None
            if len(auxiliary) == 0:
                raise ValueError("X_auxiliary holds no samples")
            auxiliary = torch.from_numpy(self._transform(auxiliary)).to(self.device_)
        return FitRun(
            auxiliary=auxiliary,
            auxiliary_fraction=fraction if fraction is not None else 0.5,
            inputs=inputs,
            labels=targets.to(self.device_),
            label_values=labels,
            generator=torch.Generator().manual_seed(seed),
            networks=networks,
            stages=stages,
            threads=cpu_threads_for(torch.nn.ModuleList(networks.modules.values()), self.device_),
        )

    def _finish_fit(self, run: FitRun) -> DeepDetector:
        """After the last stage: the objective's final state, the fitted model, the threshold."""
        objective = run.stages[-1].objective
        # Scoring runs in the standard layout, as a loaded model does: the same scores either way.
        objective.to(memory_format=torch.contiguous_format)
        inputs = run.inputs.contiguous()
        self.history_.update(objective.finish(inputs, run.labels))
        self._keep(objective)
        train_scores = self._score_tensor(inputs).numpy()
        self._set_threshold(train_scores[run.label_values != ANOMALY])
        return self

    def _seeded_networks(self, seed: int) -> Networks:
        """The networks, initialised from ``seed`` alone; records how they were built.

        The networks are built on the CPU from torch's global CPU generator, seeded for the
        construction and restored afterwards (``torch.manual_seed`` would also reseed every
        CUDA generator of the process, and leave them so)."""
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)
            networks = self._build_networks()
        self.rep_dim_ = networks.rep_dim
        self.network_name_ = networks.name
        self.network_options_ = dict(networks.options)
        return networks

    def _keep(self, model: Objective) -> None:
        """Make the fitted objective the model, and its parts attributes of the estimator:
        each network (``encoder_``, ...), tensor (``center_``) and fitted value (``radius_``)
        under its name with a trailing underscore. A tensor the objective keeps as a plain
        attribute would be lost in a model file, so it is refused."""
        stray = sorted(name for name, value in vars(model).items() if isinstance(value, torch.Tensor))
        if stray:
            raise TypeError(
                f"{type(model).__name__} keeps the tensor(s) {stray} as plain attributes after training, which a "
                "model file would not save; register them as buffers or parameters, or delete them in finish()"
            )
        self.model_ = model
        for name, module in model.named_children():
            setattr(self, f"{name}_", module)
        for name, tensor in (*model.named_parameters(recurse=False), *model.named_buffers(recurse=False)):
            setattr(self, f"{name}_", tensor.detach())
        for name in model.fitted_values:
            setattr(self, f"{name}_", getattr(model, name))

    def _natural_threshold(self) -> float | None:
        return self.model_.natural_threshold

    # ------------------------------------------------------------------ scoring
    def _transform(self, X: np.ndarray) -> np.ndarray:
        if self.scaler_ is None:
            return X
        return self.scaler_.transform(X).astype(np.float32)

    def _score_tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        """Anomaly scores of inputs (any device), batch by batch, in eval mode, on the CPU."""
        self.model_.eval()
        return batched_forward(self.model_.score, inputs, INFERENCE_BATCH_SIZE, self.device_)

    def _anomaly_score(self, X: np.ndarray) -> np.ndarray:
        inputs = torch.from_numpy(self._transform(X))
        with torch_threads(cpu_threads_for(self.model_, self.device_)):
            return self._score_tensor(inputs).numpy().astype(np.float64)

    def encode(self, X) -> np.ndarray:
        """The embeddings φ(x) of the encoder network (an autoencoder's bottleneck codes).

        Computed batch by batch in eval mode, after the same scaling as at fit time.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, rep_dim_)
            The embeddings.
        """
        check_is_fitted(self)
        X = check_input(self, X, reset=False)
        self.model_.eval()
        inputs = torch.from_numpy(self._transform(X))
        with torch_threads(cpu_threads_for(self.model_, self.device_)):
            return batched_forward(self.encoder_, inputs, INFERENCE_BATCH_SIZE, self.device_).numpy()

    def explain(self, X, baseline=None, steps: int = DEFAULT_STEPS) -> np.ndarray:
        """Per-feature attributions of the anomaly score: integrated gradients from a baseline.

        The attribution of a feature (a pixel, for images) is how much of the difference
        ``anomaly_score(x) - anomaly_score(baseline)`` it accounts for, in score units; the
        attributions of a sample add up to that difference (up to a small numerical error of
        the integral, smaller with more ``steps``). They are the same whether computed on raw
        or on scaled features, so a table's columns are explained in their own units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Samples of the shape seen by ``fit``.
        baseline : array-like of one sample, default=None
            The reference the scores are explained against, in the units of ``X`` (uint8
            images are scaled as X is). A one-row DataFrame or a Series is matched to the
            model's columns by name. None: the training mean for tables the model scales
            (``scaler="auto"``; a typical normal sample), else all zeros (a black image).
        steps : int, default=64
            Points of the path integral (midpoint rule).

        Returns
        -------
        ndarray of the shape of X
            The attributions; column j of a table belongs to its feature j
            (``feature_names_in_`` where the model was fitted on a DataFrame).
        """
        check_is_fitted(self)
        X = check_input(self, X, reset=False)
        inputs = torch.from_numpy(self._transform(X)).to(self.device_)
        if baseline is None:
            reference = np.zeros((1, *self.input_shape_), dtype=np.float32)
            if self.scaler_ is not None:
                reference = self.scaler_.mean_.reshape(1, -1).astype(np.float32)
        else:
            raw = np.asarray(as_numpy(_by_feature_name(self, baseline), "baseline"))
            reference = raw.astype(np.float32) / (PIXEL_MAX if raw.dtype == np.uint8 else 1.0)  # as X is scaled
            if reference.size != math.prod(self.input_shape_):
                raise ValueError(
                    f"baseline must be one finite sample of shape {tuple(self.input_shape_)}; got shape {reference.shape}"
                )
            if not np.isfinite(reference).all():
                raise ValueError("baseline must be one finite sample; it holds NaN or infinite values")
            reference = reference.reshape(1, *self.input_shape_)
        reference = torch.from_numpy(self._transform(reference)).to(self.device_)
        self.model_.eval()
        with torch_threads(cpu_threads_for(self.model_, self.device_)):
            result = integrated_gradients(self.model_.score, inputs, reference, steps)
        return result.attributions.cpu().numpy().astype(np.float64)

    # --------------------------------------------------------- save and load
    def save(self, path) -> None:
        """Write the fitted model to a safetensors file that loads without running code.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write; the file appears complete or not at all. Load it with
            ``deepsad.load(path)``.
        """
        check_is_fitted(self)
        save_model(self, path)

    _FITTED_METADATA = {
        "threshold_": finite_number,
        "input_shape_": sample_shape,
        "n_features_in_": positive_int,
        "rep_dim_": positive_int,
        "network_name_": optional_str,
        "network_options_": json_object,
        "history_": json_object,
    }
    """The fitted values a model file holds as JSON (with the objective's ``fitted_values`` and
    ``feature_names_in_``), each with the check its loaded value must pass."""
    _SCALER_VECTORS = ("mean_", "scale_", "min_", "range_")

    def _fitted_state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """The fitted state as JSON-compatible values and named tensors (for model files)."""
        metadata = {name: getattr(self, name) for name in self._FITTED_METADATA}
        metadata.update({f"{name}_": getattr(self.model_, name) for name in self.model_.fitted_values})
        if hasattr(self, "feature_names_in_"):
            metadata["feature_names_in_"] = [str(f) for f in self.feature_names_in_]
        tensors = dict(self.model_.state_dict())
        if self.scaler_ is not None:
            for name in self._SCALER_VECTORS:
                tensors[f"scaler.{name}"] = torch.from_numpy(getattr(self.scaler_, name))
        # A model file whose loading would refuse it is not written: NaN appears only when
        # training diverged, and then every score is NaN.
        non_finite = [name for name, value in metadata.items() if isinstance(value, float) and not math.isfinite(value)]
        non_finite += [name for name, tensor in tensors.items()
                       if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
        if non_finite:
            raise ValueError(
                f"the fitted model holds NaN or infinite values in {', '.join(non_finite)}: training diverged "
                "(try a lower learning rate), and such a model is not saved"
            )
        return metadata, tensors

    def _restore_fitted_state(self, metadata: dict, tensors: dict[str, torch.Tensor]) -> None:
        """Rebuild the fitted estimator from ``_fitted_state``'s values and tensors, once each
        value has passed its check and the tensors are exactly those of the network the
        parameters and values describe (names, dtypes, shapes, finite values). A ValueError
        names what does not fit."""
        model = self._training_plan().objective
        checks = {**self._FITTED_METADATA, "feature_names_in_": str_list}
        checks.update({f"{name}_": finite_number for name in model.fitted_values})
        fitted = checked_values(metadata, checks, optional=("feature_names_in_",))
        if fitted["n_features_in_"] != fitted["input_shape_"][0]:
            raise ValueError(
                f"the fitted value 'n_features_in_' ({fitted['n_features_in_']}) differs from the first "
                f"dimension of 'input_shape_' {list(fitted['input_shape_'])}"
            )
        if "feature_names_in_" in fitted and len(fitted["feature_names_in_"]) != fitted["n_features_in_"]:
            raise ValueError(
                f"the fitted value 'feature_names_in_' names {len(fitted['feature_names_in_'])} features, "
                f"not n_features_in_ = {fitted['n_features_in_']}"
            )
        for name, value in fitted.items():
            setattr(self, name, value)
        if "feature_names_in_" in fitted:
            self.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        self.device_ = resolve_device(self.device)
        self.scaler_ = self._restored_scaler({k: v for k, v in tensors.items() if k.startswith("scaler.")})
        weights = {k: v for k, v in tensors.items() if not k.startswith("scaler.")}
        if not isinstance(getattr(self, "network", None), torch.nn.Module):
            # The parameters and values describe the network; built first on the meta device
            # (no memory), a forged input_shape_ or rep_dim asking for a huge one is refused
            # before anything is allocated. A user's module is the user's, not the file's size.
            check_tensors_fit(self._network_state_on_meta(), weights)
        # The weights are replaced by the saved ones; the fork keeps the caller's random
        # state as it was.
        with torch.random.fork_rng(devices=[]):
            networks = self._build_networks()
        model.assemble(networks)
        check_tensors_fit(model.state_dict(), weights)
        for name, built in (("rep_dim_", networks.rep_dim), ("network_name_", networks.name)):
            if fitted[name] != built:
                raise ValueError(f"the fitted value {name!r} is {fitted[name]!r}, but the network built is {built!r}")
        model.load_state_dict(weights)
        for name in model.fitted_values:
            setattr(model, name, fitted[f"{name}_"])
        self._keep(model.to(self.device_))

    def _network_state_on_meta(self) -> dict[str, torch.Tensor]:
        """The fitted model's state_dict for the loaded parameters and values, on the meta device."""
        device, self.device_ = self.device_, torch.device("meta")
        try:
            with torch.device("meta"), torch.random.fork_rng(devices=[]):
                model = self._training_plan().objective
                model.assemble(self._build_networks())
        finally:
            self.device_ = device
        return model.state_dict()

    def _restored_scaler(self, tensors: dict[str, torch.Tensor]) -> StandardMinMaxScaler | None:
        """The ``scaler.*`` tensors as the fitted scaler, which ``fit`` makes for tables only,
        with ``scaler="auto"``: vectors of n_features_in_ finite float64, scale_ and range_ > 0."""
        needed = {f"scaler.{name}" for name in self._SCALER_VECTORS}
        if self.scaler != "auto" or len(self.input_shape_) != 1:
            needed = set()
        if set(tensors) != needed:
            raise ValueError(
                f"the file holds the scaler tensors {sorted(tensors)}; a model with scaler={self.scaler!r} "
                f"fitted on samples of shape {self.input_shape_} has {sorted(needed)}"
            )
        if not needed:
            return None
        scaler = StandardMinMaxScaler()
        for name in self._SCALER_VECTORS:
            vector = tensors[f"scaler.{name}"]
            check_tensor(f"scaler.{name}", vector, torch.float64, (self.n_features_in_,))
            if name in ("scale_", "range_") and not bool((vector > 0).all()):
                raise ValueError(f"the tensor 'scaler.{name}' must be positive (the scaler divides by it)")
            setattr(scaler, name, vector.numpy())
        scaler.n_features_in_ = self.n_features_in_
        return scaler



def _by_feature_name(estimator, baseline):
    """A one-row DataFrame or Series baseline with its columns in the order of the model's
    ``feature_names_in_`` (fitted on a DataFrame); anything else as given."""
    names = getattr(estimator, "feature_names_in_", None)
    labels = baseline.columns if hasattr(baseline, "columns") else getattr(baseline, "index", None)
    if names is None or labels is None or not hasattr(baseline, "iloc"):
        return baseline
    missing = [name for name in names if name not in set(labels)]
    extra = [label for label in labels if label not in set(names)]
    if missing or extra:
        raise ValueError(f"baseline's columns must be the model's: missing {missing[:5]}, unknown {extra[:5]}")
    return baseline[list(names)] if hasattr(baseline, "columns") else baseline[list(names)].to_numpy()
