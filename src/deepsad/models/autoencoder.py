"""The autoencoder as an anomaly detector: score = reconstruction error."""

from __future__ import annotations

from deepsad.models.architecture import encoder_and_decoder
from deepsad.models.deep import (
    COMMON_CONSTRAINTS,
    NETWORK_CONSTRAINTS,
    PRETRAINING_CONSTRAINTS,
    DeepDetector,
    TrainingPlan,
    autoencoder_schedule,
)
from deepsad.models.objective import Networks
from deepsad.models.persistence import savable
from deepsad.models.reconstruction import ReconstructionObjective


@savable
class Autoencoder(DeepDetector):
    """The pretraining autoencoder of the deep methods as a detector (reconstruction error).

    The anomaly score is the mean squared reconstruction error. Unsupervised: samples labeled -1 are left out of training, with a warning. Its training is
    the pretraining stage of the other deep methods, so it takes their ``ae_*`` parameters
    (one sweep setting shapes both). ``encode(X)`` returns the bottleneck codes φ(x), on which
    ``deepsad.baselines.Hybrid`` fits a shallow detector.

    Parameters
    ----------
    network : {"auto", "mlp", "mnist_lenet", "fmnist_lenet", "cifar10_lenet"} or nn.Module, default="auto"
        The encoder φ. "auto" picks the paper's LeNet for 1×28×28 and 3×32×32 images, else an
        MLP. A user's ``nn.Module`` maps a batch to codes of shape (n, rep_dim) and needs a
        ``decoder``.
    rep_dim : "auto" or int, default="auto"
        Dimension of the code; "auto" is the network's own (MLP: 32 for more than 40
        features, else 8).
    hidden_sizes : "auto" or sequence of int, default="auto"
        Widths of the MLP's hidden layers; "auto" is 128-64 for more than 40 features, else
        32-16.
    decoder : nn.Module or None, default=None
        The decoder of a user's ``network``, mapping codes back to inputs.
    scaler : "auto" or None, default="auto"
        "auto" standardizes tabular data and min-max scales it to [0, 1] with training
        statistics (the paper's preprocessing); images, and everything with None, are used
        as given (scale pixels to [0, 1]).
    ae_epochs : int, default=150
        Training epochs; 0 trains nothing: the codes and reconstructions come from the random
        initial weights.
    ae_lr : float, default=1e-4
        Adam's learning rate.
    ae_lr_milestones : sequence of int, default=(50,)
        Epochs after whose updates the learning rate is multiplied by 0.1.
    ae_batch_size : int, default=128
        Minibatch size.
    ae_weight_decay : float, default=5e-4
        Adam's weight decay.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data above ``threshold_``; "auto" is 0.05.
    device : str or torch.device, default="auto"
        "auto" (CUDA when present, else the CPU), "cpu" or "cuda[:N]".
    random_state : int, RandomState, Generator or None, default=None
        Seed of the initial weights and the minibatch order; an int gives identical results
        on the CPU.
    verbose : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    model_ : ReconstructionObjective
        The fitted model, an ``nn.Module``: ``model_.score(batch)`` is the anomaly score of
        inputs already scaled by ``scaler_`` (``anomaly_score`` does both).
    encoder_, decoder_ : nn.Module
        The trained networks.
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    history_ : dict
        Per-epoch losses, learning rates and seconds of ``"train"``.
    rep_dim_ : int
        Dimension of the code.
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
    >>> from deepsad import Autoencoder
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> Autoencoder(ae_epochs=5, random_state=0).fit(X).anomaly_score(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **NETWORK_CONSTRAINTS,
        **PRETRAINING_CONSTRAINTS,
        **COMMON_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        network="auto",
        rep_dim="auto",
        hidden_sizes="auto",
        decoder=None,
        scaler="auto",
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
        return TrainingPlan(objective=ReconstructionObjective(), schedule=autoencoder_schedule(self))

