"""Deep SAD (Ruff et al., ICLR 2020)."""

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
from deepsad.objectives import deep_sad_loss
from deepsad.parameters import POSITIVE_REAL, Interval, options


class DeepSADObjective(HypersphereObjective):
    """Deep SAD's loss around a fixed center c: d(x) = ‖φ(x) − c‖² for unlabeled samples,
    η·(d(x) + eps)^ỹ for labeled ones (ỹ = +1 normal, −1 anomaly). Score: d(x)."""

    stackable = True

    def __init__(self, eta: float, eps: float):
        super().__init__()
        self.eta = eta
        self.eps = eps

    def batch_loss(self, batch, labels):
        return deep_sad_loss(self.squared_distances(batch), labels, self.eta, self.eps)

    def score(self, batch):
        return self.squared_distances(batch)


@savable
class DeepSAD(DeepDetector):
    """Deep Semi-supervised Anomaly Detection (Ruff et al., ICLR 2020).

    Unlabeled and known-normal samples are pulled towards a fixed center c, known anomalies
    (label -1) pushed away with the inverse loss η/(‖φ(x) − c‖² + eps). The anomaly score is
    ‖φ(x) − c‖². Without labels this is Deep SVDD (One-Class). The network φ is pretrained as
    the encoder of an autoencoder, and c is the mean embedding of the training data without the
    known anomalies, coordinates nearer 0 than 0.1 pushed to ±0.1.

    Parameters
    ----------
    eta : float, default=1.0
        Weight η of the labeled samples' terms (results are robust over 0.01 … 100).
    eps : float, default=1e-6
        Keeps the inverse term finite for anomalies mapped onto c.
    auxiliary_fraction : float in (0, 1), default=0.5
        With ``fit(..., X_auxiliary=...)`` (Outlier Exposure): the share of auxiliary
        anomalies in every minibatch of the main stage (0.5: balanced, as in the thesis).
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
    lr : "auto" or float, default="auto"
        Adam's learning rate; "auto" is 1e-3 for tables and the paper's 1e-4 for images
        (``deepsad.presets.PAPER`` is the paper's schedule for tables too).
    lr_milestones : sequence of int, default=(50,)
        Epochs after whose updates the learning rate is multiplied by 0.1.
    batch_size : "auto" or int, default="auto"
        Minibatch size; "auto" is 64 for tables and the paper's 128 for images.
    weight_decay : float, default=1e-6
        Adam's weight decay λ.
    ae_epochs, ae_lr, ae_lr_milestones, ae_batch_size, ae_weight_decay : default=150, "auto", (50,), "auto", 5e-4
        The same for autoencoder pretraining ("auto" as for the main stage); ``ae_epochs=0``
        trains nothing: φ starts from the autoencoder's random initial weights.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data (known anomalies excluded) above ``threshold_``;
        "auto" is 0.05.
    device : str or torch.device, default="auto"
        "auto" (CUDA when present, else the CPU), "cpu" or "cuda[:N]".
    random_state : int, RandomState, Generator or None, default=None
        Seed of the initial weights and the minibatch order; an int gives identical results
        on the CPU.
    verbose : bool, default=False
        Show a progress bar per training stage.

    Attributes
    ----------
    model_ : DeepSADObjective
        The fitted model, an ``nn.Module``: ``model_.score(batch)`` is the anomaly score of
        inputs already scaled by ``scaler_`` (``anomaly_score`` does both).
    encoder_ : nn.Module
        The trained network φ.
    center_ : torch.Tensor of shape (rep_dim_,)
        The center c.
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    history_ : dict
        Per-epoch losses, learning rates and seconds of ``"pretrain"`` and ``"train"``, the
        embedding's ``"embedding_variance"`` and whether it ``"collapsed"``.
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
    DeepSVDD : The unsupervised special case.
    HSC : A classifier-style objective for many labeled anomalies.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad import DeepSAD
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 4)), rng.normal(4, 1, size=(10, 4))])
    >>> y = np.r_[np.zeros(200), -np.ones(5), np.zeros(5)]
    >>> model = DeepSAD(epochs=5, ae_epochs=5, random_state=0).fit(X, y)
    >>> model.anomaly_score(X).shape
    (210,)
    """

    _parameter_constraints = {
        "eta": [POSITIVE_REAL],
        "eps": [POSITIVE_REAL],
        "auxiliary_fraction": [Interval(Real, 0, 1, closed="neither")],
        **NETWORK_CONSTRAINTS,
        "pretrain": ["boolean"],
        "pretrain_on": [options("all", "unlabeled")],
        **TRAINING_CONSTRAINTS,
        **PRETRAINING_CONSTRAINTS,
        **{name: [options("auto"), *TRAINING_CONSTRAINTS.get(name, PRETRAINING_CONSTRAINTS.get(name))]
           for name in ("lr", "batch_size", "ae_lr", "ae_batch_size")},
        **COMMON_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        eta=1.0,
        eps=1e-6,
        auxiliary_fraction=0.5,
        network="auto",
        rep_dim="auto",
        hidden_sizes="auto",
        decoder=None,
        scaler="auto",
        pretrain=True,
        pretrain_on="all",
        epochs=150,
        lr="auto",
        lr_milestones=(50,),
        batch_size="auto",
        weight_decay=1e-6,
        ae_epochs=150,
        ae_lr="auto",
        ae_lr_milestones=(50,),
        ae_batch_size="auto",
        ae_weight_decay=5e-4,
        contamination="auto",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.eta = eta
        self.eps = eps
        self.auxiliary_fraction = auxiliary_fraction
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
            objective=DeepSADObjective(eta=self.eta, eps=self.eps),
            schedule=training_schedule(self),
            pretraining=autoencoder_schedule(self) if self.pretrain else None,
        )
