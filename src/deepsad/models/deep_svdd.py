"""Deep SVDD (Ruff et al., ICML 2018): One-Class and soft-boundary objectives."""

from __future__ import annotations

from numbers import Real

from deepsad.models.architecture import encoder_and_decoder
from deepsad.models.deep import (
    COMMON_CONSTRAINTS,
    NETWORK_CONSTRAINTS,
    PRETRAINING_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    DeepDetector,
    TrainingPlan,
    autoencoder_schedule,
    training_schedule,
)
from deepsad.models.hypersphere import HypersphereObjective
from deepsad.models.objective import Networks
from deepsad.models.persistence import savable
from deepsad.objectives import one_class_loss, soft_boundary_loss, soft_boundary_radius
from deepsad.parameters import Interval, options
from deepsad.training import INFERENCE_BATCH_SIZE, batched_forward

RADIUS_WARM_UP_EPOCHS = 10
"""Soft-boundary: R stays 0 for the first epochs, while the embedding still moves fast..."""
RADIUS_UPDATE_EVERY = 5
"""...then it is re-solved in closed form on all training embeddings every few epochs and
after training."""


class DeepSVDDObjective(HypersphereObjective):
    """Deep SVDD around a fixed center c (unsupervised). One-Class: mean d(x) = ‖φ(x) − c‖².
    Soft-boundary: R² + mean(max(0, d(x) − R²)) / ν with R solved as the (1 − ν)-quantile of
    √d over the training data. Score: d(x) − R² (R = 0 for One-Class)."""

    uses_labels = False
    fitted_values = ("radius",)

    def __init__(self, soft_boundary: bool, nu: float):
        super().__init__()
        self.soft_boundary = soft_boundary
        self.nu = nu
        self.radius = 0.0

    @property
    def stackable(self) -> bool:
        # The soft-boundary radius is re-solved between epochs, outside the loss.
        return not self.soft_boundary

    @property
    def natural_threshold(self) -> float | None:
        # The soft-boundary sphere is the method's own decision boundary (score 0).
        return 0.0 if self.soft_boundary else None

    def start(self, inputs, labels, generator) -> None:
        super().start(inputs, labels, generator)
        # Unsupervised: the pipeline has already left out known anomalies.
        self.normal_inputs = inputs
        self.radius = 0.0
        self.radii = []

    def batch_loss(self, batch, labels):
        distances = self.squared_distances(batch)
        if self.soft_boundary:
            return soft_boundary_loss(distances, self.radius, self.nu)
        return one_class_loss(distances)

    def after_epoch(self, epoch: int) -> None:
        epochs_done = epoch + 1
        if self.soft_boundary and epochs_done >= RADIUS_WARM_UP_EPOCHS and epochs_done % RADIUS_UPDATE_EVERY == 0:
            self._solve_radius()

    def _solve_radius(self) -> None:
        self.encoder.eval()
        distances = batched_forward(self.squared_distances, self.normal_inputs, INFERENCE_BATCH_SIZE,
                                    self.normal_inputs.device)
        self.radius = soft_boundary_radius(distances, self.nu)
        self.radii.append(self.radius)

    def finish(self, inputs, labels) -> dict:
        if self.soft_boundary:
            self._solve_radius()
        report = {"radius": self.radii, **super().finish(inputs, labels)}
        del self.normal_inputs, self.radii
        return report

    def score(self, batch):
        return self.squared_distances(batch) - self.radius**2


@savable
class DeepSVDD(DeepDetector):
    """Deep Support Vector Data Description (Ruff et al., ICML 2018), unsupervised.

    ``objective="one-class"`` minimises the mean ‖φ(x) − c‖² (score: that distance);
    ``"soft-boundary"`` learns a sphere of radius R with at most a fraction ν of the training
    data outside (score: ‖φ(x) − c‖² − R², positive outside). Labels are not used: samples
    labeled as anomalies (-1) are left out of training and known normals count as
    unlabeled, with a warning saying so. φ is pretrained as an autoencoder's encoder, and c
    is the mean embedding of the training data, coordinates nearer 0 than 0.1 pushed to ±0.1.

    Parameters
    ----------
    objective : {"one-class", "soft-boundary"}, default="one-class"
        The Deep SVDD variant.
    nu : float in (0, 1], default=0.1
        Soft-boundary: the largest fraction of training samples outside the sphere.
    network : {"auto", "mlp", "mnist_lenet", "fmnist_lenet", "cifar10_lenet"} or nn.Module, default="auto"
        The encoder φ. "auto" picks the paper's LeNet for 1×28×28 and 3×32×32 images, else an
        MLP. A user's ``nn.Module`` maps a batch to embeddings of shape (n, rep_dim); it
        should have no bias terms and no bounded activations (a warning says when it has).
    rep_dim : "auto" or int, default="auto"
        Dimension of the embedding; "auto" is the network's own (MLP: 32 for more than 40
        features, else 8).
    hidden_sizes : "auto" or sequence of int, default="auto"
        Widths of the MLP's hidden layers; "auto" is 128-64 for more than 40 features, else
        32-16.
    decoder : nn.Module or None, default=None
        The decoder that pretrains a user's ``network``, mapping embeddings back to inputs.
    scaler : "auto" or None, default="auto"
        "auto" standardizes tabular data and min-max scales it to [0, 1] with training
        statistics (the paper's preprocessing); images, and everything with None, are used
        as given (scale pixels to [0, 1]).
    pretrain : bool, default=True
        Pretrain φ as the encoder of an autoencoder and start from its weights.
    pretrain_on : {"all", "unlabeled"}, default="all"
        The samples pretraining trains the autoencoder on, and the tabular scaling is fitted
        on: the whole training set (the paper), or the unlabeled samples only, which are the
        same across the labeled fractions, η and known classes of a grid, so one pretrained
        autoencoder serves them all (``deepsad.fit_many`` with a ``PretrainingCache``).
    epochs : int, default=150
        Training epochs; 0 trains nothing: the pretrained (or random) φ is used as it is,
        around its center c.
    lr : float, default=1e-4
        Adam's learning rate.
    lr_milestones : sequence of int, default=(50,)
        Epochs after whose updates the learning rate is multiplied by 0.1.
    batch_size : int, default=128
        Minibatch size.
    weight_decay : float, default=1e-6
        Adam's weight decay λ.
    ae_epochs, ae_lr, ae_lr_milestones, ae_batch_size, ae_weight_decay : default=150, 1e-4, (50,), 128, 5e-4
        The same for autoencoder pretraining; ``ae_epochs=0`` trains nothing: φ starts from the
        autoencoder's random initial weights.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data above ``threshold_``; "auto" is the sphere
        (score 0) for the soft-boundary objective, else 0.05.
    device : str or torch.device, default="auto"
        "auto" (CUDA when present, else the CPU), "cpu" or "cuda[:N]".
    random_state : int, RandomState, Generator or None, default=None
        Seed of the initial weights and the minibatch order; an int gives identical results
        on the CPU.
    verbose : bool, default=False
        Show a progress bar per training stage.

    Attributes
    ----------
    model_ : DeepSVDDObjective
        The fitted model, an ``nn.Module``: ``model_.score(batch)`` is the anomaly score of
        inputs already scaled by ``scaler_`` (``anomaly_score`` does both).
    encoder_ : nn.Module
        The trained network φ.
    center_ : torch.Tensor of shape (rep_dim_,)
        The center c.
    radius_ : float
        The radius R (0 for the One-Class objective).
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    history_ : dict
        Per-epoch losses, learning rates and seconds of ``"pretrain"`` and ``"train"``, the
        radii solved during training (``"radius"``), the embedding's
        ``"embedding_variance"`` and whether it ``"collapsed"``.
    rep_dim_ : int
        Dimension of the embedding.
    network_name_ : str or None
        The registered network used (None for a user's module).
    network_options_ : dict
        Its ``rep_dim`` and ``hidden_sizes``.
    scaler_ : StandardMinMaxScaler or None
        The fitted tabular scaling.
    device_ : torch.device
        Where the model lives.
    input_shape_ : tuple of int
        Shape of one sample.
    n_features_in_ : int
        Number of features (of the first axis after the samples).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a DataFrame X, when it had string names.

    See Also
    --------
    DeepSAD : Learns from labeled samples too.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad import DeepSVDD
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> model = DeepSVDD(objective="soft-boundary", nu=0.1, epochs=5, ae_epochs=5, random_state=0).fit(X)
    >>> bool(model.radius_ > 0)
    True
    """

    _parameter_constraints = {
        "objective": [options("one-class", "soft-boundary")],
        "nu": [Interval(Real, 0, 1, closed="right")],
        **NETWORK_CONSTRAINTS,
        "pretrain": ["boolean"],
        "pretrain_on": [options("all", "unlabeled")],
        **TRAINING_CONSTRAINTS,
        **PRETRAINING_CONSTRAINTS,
        **COMMON_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        objective="one-class",
        nu=0.1,
        network="auto",
        rep_dim="auto",
        hidden_sizes="auto",
        decoder=None,
        scaler="auto",
        pretrain=True,
        pretrain_on="all",
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
        self.objective = objective
        self.nu = nu
        self.network = network
        self.rep_dim = rep_dim
        self.hidden_sizes = hidden_sizes
        self.decoder = decoder
        self.scaler = scaler
        self.pretrain = pretrain
        self.pretrain_on = pretrain_on
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

    def _build_networks(self) -> Networks:
        return encoder_and_decoder(
            self.network, self.rep_dim, self.hidden_sizes, self.decoder, self.input_shape_, self.device_
        )

    def _training_plan(self) -> TrainingPlan:
        return TrainingPlan(
            objective=DeepSVDDObjective(soft_boundary=self.objective == "soft-boundary", nu=self.nu),
            schedule=training_schedule(self),
            pretraining=autoencoder_schedule(self) if self.pretrain else None,
        )
