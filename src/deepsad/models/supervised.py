"""The supervised baseline of Ruff et al. (ICLR 2020): a deep binary classifier that learns
labeled anomalies against everything else."""

from __future__ import annotations

import numpy as np
import torch

from deepsad.labels import ANOMALY
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
from deepsad.models.objective import Networks, Objective
from deepsad.models.persistence import savable
from deepsad.objectives import anomaly_cross_entropy
from deepsad.parameters import POSITIVE_REAL, options

LOGIT_DECISION_BOUNDARY = 0.0
"""The output's decision boundary p(anomaly | x) = 0.5, on the logit scale of the scores."""


class AnomalyClassifierObjective(Objective):
    """φ followed by one linear output with bias (a logit), trained with binary cross-entropy:
    labeled anomalies positive, everything else negative. Score: the logit."""

    stackable = True

    natural_threshold = LOGIT_DECISION_BOUNDARY

    def __init__(self, anomaly_weight: float):
        super().__init__()
        self.anomaly_weight = anomaly_weight

    def check_labels(self, labels: np.ndarray) -> None:
        if not np.any(labels == ANOMALY):
            raise ValueError(
                "SupervisedClassifier needs labeled anomalies: y has no -1 label, so there is no "
                "positive class to learn. Label some anomalies (-1), or use DeepSAD/DeepSVDD, "
                "which learn from unlabeled data alone."
            )

    def assemble(self, networks: Networks) -> None:
        self.encoder = networks["encoder"]
        self.output_layer = networks["output_layer"]

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        return self.output_layer(self.encoder(batch)).squeeze(1)

    def batch_loss(self, batch, labels):
        return anomaly_cross_entropy(self.logits(batch), labels, self.anomaly_weight)

    def score(self, batch):
        return self.logits(batch)


@savable
class SupervisedClassifier(DeepDetector):
    """Deep binary classifier, the supervised baseline of the Deep SAD paper.

    The deep methods' encoder φ followed by one linear output (a logit with bias), trained
    with binary cross-entropy where labeled anomalies (-1) are the positive class and
    unlabeled (0) and known-normal (+1) samples are treated as normal. It needs labeled
    anomalies and, unlike the one-class methods, learns only the anomalies it was shown.
    The anomaly score is the logit log p/(1 − p) of p = p(anomaly | x): a monotone map of
    the probability (sigmoid(score) = p) that does not saturate at 0 or 1 in floating point,
    so confident samples keep their ranking. With ``pretrain=True`` φ starts from the
    weights of an autoencoder trained on all training data, as for Deep SAD, so the two
    differ only in their objective.

    Parameters
    ----------
    anomaly_weight : float, default=1.0
        Weight of the labeled anomalies' terms in the cross-entropy (PyTorch's
        ``pos_weight``). 1 is the plain BCE of the paper; larger values counter the class
        imbalance of a few labeled anomalies among many unlabeled samples.
    network : {"auto", "mlp", "mnist_lenet", "fmnist_lenet", "cifar10_lenet"} or nn.Module, default="auto"
        The encoder φ. "auto" picks the paper's LeNet for 1×28×28 and 3×32×32 images, else an
        MLP. A user's ``nn.Module`` maps a batch to embeddings of shape (n, rep_dim).
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
        Training epochs; 0 trains nothing: the pretrained (or random) φ and a random output
        layer score as they are.
    lr : float, default=1e-4
        Adam's learning rate.
    lr_milestones : sequence of int, default=(50,)
        Epochs after whose updates the learning rate is multiplied by 0.1.
    batch_size : int, default=128
        Minibatch size.
    weight_decay : float, default=1e-6
        Adam's weight decay.
    ae_epochs, ae_lr, ae_lr_milestones, ae_batch_size, ae_weight_decay : default=150, 1e-4, (50,), 128, 5e-4
        The same for autoencoder pretraining; ``ae_epochs=0`` trains nothing: φ starts from the
        autoencoder's random initial weights.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data (known anomalies excluded) above ``threshold_``;
        "auto" is the classifier's own boundary p = 0.5 (logit 0).
    device : str or torch.device, default="auto"
        "auto" (CUDA when present, else the CPU), "cpu" or "cuda[:N]".
    random_state : int, RandomState, Generator or None, default=None
        Seed of the initial weights and the minibatch order; an int gives identical results
        on the CPU.
    verbose : bool, default=False
        Show a progress bar per training stage.

    Attributes
    ----------
    model_ : AnomalyClassifierObjective
        The fitted model, an ``nn.Module``: ``model_.score(batch)`` is the logit of inputs
        already scaled by ``scaler_`` (``anomaly_score`` does both).
    encoder_ : nn.Module
        The trained network φ.
    output_layer_ : nn.Linear
        The logit layer (with bias).
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    history_ : dict
        Per-epoch losses, learning rates and seconds of ``"pretrain"`` and ``"train"``.
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

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad import SupervisedClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 4)), rng.normal(4, 1, size=(10, 4))])
    >>> y = np.r_[np.zeros(200), -np.ones(10)]
    >>> model = SupervisedClassifier(epochs=5, ae_epochs=5, random_state=0).fit(X, y)
    >>> model.anomaly_score(X).shape
    (210,)
    """

    _parameter_constraints = {
        "anomaly_weight": [POSITIVE_REAL],
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
        anomaly_weight=1.0,
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
        self.anomaly_weight = anomaly_weight
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
        networks = encoder_and_decoder(
            self.network, self.rep_dim, self.hidden_sizes, self.decoder, self.input_shape_, self.device_
        )
        # Built after φ from the same seeded state; the bias lets the logit absorb the class
        # imbalance.
        networks.modules["output_layer"] = torch.nn.Linear(networks.rep_dim, 1).to(self.device_)
        return networks

    def _training_plan(self) -> TrainingPlan:
        return TrainingPlan(
            objective=AnomalyClassifierObjective(anomaly_weight=self.anomaly_weight),
            schedule=training_schedule(self),
            pretraining=autoencoder_schedule(self) if self.pretrain else None,
        )
