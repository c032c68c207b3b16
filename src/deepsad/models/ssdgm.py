"""The semi-supervised deep generative model M2 of Kingma et al. ("Semi-supervised Learning
with Deep Generative Models", NeurIPS 2014) with two classes, normal and anomalous: the
SS-DGM baseline of Ruff et al. (ICLR 2020).

Generative model: p(y) uniform over the two classes, p(z) = N(0, I), and p(x | y, z) a
product of Bernoullis whose logits a decoder computes from (z, y). Inference model: a
classifier q(y | x) and a Gaussian encoder q(z | x, y) = N(μ(x, y), diag σ²(x, y)). With

    −ELBO(x, y) = −E_q(z|x,y)[log p(x | y, z)] − log p(y) + KL(q(z | x, y) ‖ p(z))

(one reparameterised sample of z; the Gaussian KL in closed form), the loss of a labeled
sample is −ELBO(x, y) − α/N_l · log q(y | x) and that of an unlabeled sample is
Σ_y q(y | x) (−ELBO(x, y)) − H(q(y | x)). Summed over the data set this is Kingma's
J^α = Σ_l L(x, y) + Σ_u U(x) + α · E_labeled[−log q(y | x)], whose classification term
is a mean over the N_l labeled samples.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deepsad.labels import ANOMALY, UNLABELED
from deepsad.models.deep import COMMON_CONSTRAINTS, TRAINING_CONSTRAINTS, DeepDetector, TrainingPlan, training_schedule
from deepsad.models.objective import Networks, Objective
from deepsad.models.persistence import savable
from deepsad.networks.layers import leaky_relu
from deepsad.networks.mlp import auto_mlp_sizes
from deepsad.objectives import ANOMALOUS_CLASS, NORMAL_CLASS, gaussian_kl, m2_loss
from deepsad.parameters import HIDDEN_SIZES, NON_NEGATIVE_REAL, POSITIVE_INT, options

N_CLASSES = 2
# −log p(y) under the uniform class prior.
NEGATIVE_LOG_PRIOR = math.log(N_CLASSES)
# Kingma et al. set α = 0.1 · N (N training samples) in all their experiments.
ALPHA_PER_SAMPLE = 0.1
# Room for rounding when checking that the training inputs lie in [0, 1].
UNIT_RANGE_TOLERANCE = 1e-5


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given widths with leaky ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (width_in, width_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(width_in, width_out))
        if index < len(sizes) - 2:
            layers.append(leaky_relu())
    return nn.Sequential(*layers)


class Classifier(nn.Module):
    """q(y | x): class logits (normal, anomalous) of the flattened input."""

    def __init__(self, n_features: int, hidden_sizes: tuple[int, ...]):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), _mlp([n_features, *hidden_sizes, N_CLASSES]))

    def forward(self, x):
        return self.layers(x)


class GaussianEncoder(nn.Module):
    """q(z | x, y): the mean and log-variance of a diagonal Gaussian over z."""

    def __init__(self, n_features: int, hidden_sizes: tuple[int, ...], latent_dim: int):
        super().__init__()
        self.layers = _mlp([n_features + N_CLASSES, *hidden_sizes, 2 * latent_dim])

    def forward(self, x_flat, y_one_hot):
        mean, log_variance = self.layers(torch.cat([x_flat, y_one_hot], dim=1)).chunk(2, dim=1)
        return mean, log_variance


class BernoulliDecoder(nn.Module):
    """p(x | y, z): Bernoulli logits of the flattened input, the encoder's widths reversed."""

    def __init__(self, n_features: int, hidden_sizes: tuple[int, ...], latent_dim: int):
        super().__init__()
        self.layers = _mlp([latent_dim + N_CLASSES, *reversed(hidden_sizes), n_features])

    def forward(self, z, y_one_hot):
        return self.layers(torch.cat([z, y_one_hot], dim=1))


def negative_elbos(
    encoder: GaussianEncoder, decoder: BernoulliDecoder, x: torch.Tensor, noise: torch.Generator
) -> torch.Tensor:
    """−ELBO(x, y) of each sample for y = normal and y = anomalous: shape (n, 2). One
    reparameterised sample of z per sample and class, drawn from ``noise``."""
    x_flat = x.flatten(1)
    n = x_flat.shape[0]
    classes = torch.arange(N_CLASSES, device=x.device).repeat_interleave(n)
    y_one_hot = F.one_hot(classes, N_CLASSES).to(x_flat.dtype)
    x_repeated = x_flat.repeat(N_CLASSES, 1)
    mean, log_variance = encoder(x_repeated, y_one_hot)
    standard_normal = torch.randn(mean.shape, generator=noise, dtype=mean.dtype, device=mean.device)
    z = mean + torch.exp(0.5 * log_variance) * standard_normal
    reconstruction_logits = decoder(z, y_one_hot)
    negative_log_likelihood = F.binary_cross_entropy_with_logits(
        reconstruction_logits, x_repeated, reduction="none"
    ).sum(dim=1)
    per_class = negative_log_likelihood + gaussian_kl(mean, log_variance) + NEGATIVE_LOG_PRIOR
    return per_class.view(N_CLASSES, n).T


class M2Objective(Objective):
    """Kingma's M2 loss over the classifier q(y | x), the encoder q(z | x, y) and the decoder
    p(x | y, z). Score: the classifier's log-odds log q(anomalous | x) − log q(normal | x)."""

    fitted_values = ("alpha",)

    def __init__(self, alpha):
        super().__init__()
        self.alpha_setting = alpha

    def check_labels(self, labels: np.ndarray) -> None:
        if not np.any(labels == ANOMALY):
            raise ValueError(
                "SSDGM needs labeled anomalies: y has no -1 label, so the class 'anomalous' of "
                "its classifier q(y | x) is never observed. Label some anomalies (-1), or use "
                "DeepSAD/DeepSVDD, which learn from unlabeled data alone."
            )

    def assemble(self, networks: Networks) -> None:
        self.classifier = networks["classifier"]
        self.encoder = networks["encoder"]
        self.decoder = networks["decoder"]

    def start(self, inputs, labels, generator) -> None:
        if inputs.min() < -UNIT_RANGE_TOLERANCE or inputs.max() > 1 + UNIT_RANGE_TOLERANCE:
            raise ValueError(
                "SSDGM's Bernoulli decoder needs inputs in [0, 1]; the training inputs span "
                f"[{float(inputs.min()):.4g}, {float(inputs.max()):.4g}]. Scale images to [0, 1] "
                "(e.g. deepsad.preprocessing.ImageScaler) and keep scaler='auto' for tabular data."
            )
        n_samples = inputs.shape[0]
        self.alpha = ALPHA_PER_SAMPLE * n_samples if self.alpha_setting == "auto" else float(self.alpha_setting)
        self.classification_weight = self.alpha / int((labels != UNLABELED).sum())
        # The reparameterisation noise has its own generator, seeded from the fit's, so that
        # random_state fixes the result and torch's global random state is left alone.
        noise_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        self.noise = torch.Generator(device=inputs.device).manual_seed(noise_seed)

    def batch_loss(self, batch, labels):
        return m2_loss(
            self.classifier(batch), negative_elbos(self.encoder, self.decoder, batch, self.noise), labels,
            self.classification_weight,
        )

    def finish(self, inputs, labels) -> dict:
        del self.noise
        return {}

    def score(self, batch):
        class_logits = self.classifier(batch)
        return class_logits[:, ANOMALOUS_CLASS] - class_logits[:, NORMAL_CLASS]


@savable
class SSDGM(DeepDetector):
    """Semi-supervised deep generative model (Kingma et al.'s M2), the paper's SS-DGM baseline.

    M2 with two classes, normal and anomalous. Labels -1 are anomalous, +1 normal, 0 unlabeled. The anomaly score is the classifier's
    log-odds log q(anomalous | x) − log q(normal | x): a monotone map of the class
    probability q(y = anomalous | x) = sigmoid(score) that does not saturate at 0 or 1 in
    floating point. Needs at least one labeled anomaly. With a uniform class prior and labels
    for a few anomalies only, q(y | x) ranks well but is not calibrated (it can put many normal
    samples past 0.5), so ``contamination="auto"`` leaves 5% of the training data above the
    threshold rather than using q = 0.5.

    The three networks are MLPs with leaky ReLU: the classifier x → hidden → 2, the encoder
    (x, y) → hidden → (μ, log σ²) and the decoder (z, y) → reversed hidden → x. Images
    (n, c, h, w) are flattened to vectors. The decoder's likelihood is Bernoulli (binary
    cross-entropy), which needs inputs in [0, 1]: images scaled to [0, 1] (e.g.
    ``ImageScaler``) and tabular data min-max scaled by the default ``scaler="auto"``
    (training data land in [0, 1] exactly). Training data outside [0, 1] are refused. M2 has
    no pretraining stage.

    Parameters
    ----------
    alpha : "auto" or float, default="auto"
        Weight α of the classification loss in Kingma's J^α = Σ_labeled −ELBO +
        Σ_unlabeled U + α · mean_labeled(−log q(y | x)). "auto" is Kingma et al.'s
        α = 0.1 · N for N training samples.
    rep_dim : "auto" or int, default="auto"
        Dimension of the latent z; "auto" is 32 for more than 40 features, else 8.
    hidden_sizes : "auto" or sequence of int, default="auto"
        Widths of the hidden layers; "auto" is 128-64 for more than 40 features, else 32-16.
    scaler : "auto" or None, default="auto"
        "auto" standardizes tabular data and min-max scales it to [0, 1] with training
        statistics; images, and everything with None, are used as given.
    epochs : int, default=150
        Training epochs; 0 trains nothing: the networks keep their random initial weights.
    lr : float, default=1e-4
        Adam's learning rate.
    lr_milestones : sequence of int, default=(50,)
        Epochs after whose updates the learning rate is multiplied by 0.1.
    batch_size : int, default=128
        Minibatch size.
    weight_decay : float, default=1e-6
        Adam's weight decay.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data (known anomalies excluded) above ``threshold_``;
        "auto" is 0.05.
    device : str or torch.device, default="auto"
        "auto" (CUDA when present, else the CPU), "cpu" or "cuda[:N]".
    random_state : int, RandomState, Generator or None, default=None
        Seed of the initial weights, the minibatch order and the sampling of z; an int gives
        identical results on the CPU.
    verbose : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    model_ : M2Objective
        The fitted model, an ``nn.Module``: ``model_.score(batch)`` is the anomaly score of
        inputs already scaled by ``scaler_`` (``anomaly_score`` does both).
    classifier_ : nn.Module
        q(y | x), class logits (normal, anomalous).
    encoder_ : nn.Module
        q(z | x, y).
    decoder_ : nn.Module
        p(x | y, z).
    alpha_ : float
        The weight α used.
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    history_ : dict
        Per-epoch losses, learning rates and seconds of ``"train"``.
    rep_dim_ : int
        Dimension of the latent z.
    network_name_ : str
        Always "mlp".
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
    >>> from deepsad import SSDGM
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 4)), rng.normal(4, 1, size=(10, 4))])
    >>> y = np.r_[np.zeros(200), -np.ones(10)]
    >>> model = SSDGM(epochs=5, lr=1e-3, random_state=0).fit(X, y)
    >>> model.anomaly_score(X).shape
    (210,)
    """

    _parameter_constraints = {
        "alpha": [options("auto"), NON_NEGATIVE_REAL],
        "rep_dim": [options("auto"), POSITIVE_INT],
        "hidden_sizes": [options("auto"), HIDDEN_SIZES],
        **TRAINING_CONSTRAINTS,
        **COMMON_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        alpha="auto",
        rep_dim="auto",
        hidden_sizes="auto",
        scaler="auto",
        epochs=150,
        lr=1e-4,
        lr_milestones=(50,),
        batch_size=128,
        weight_decay=1e-6,
        contamination="auto",
        device="auto",
        random_state=None,
        verbose=False,
    ):
        self.alpha = alpha
        self.rep_dim = rep_dim
        self.hidden_sizes = hidden_sizes
        self.scaler = scaler
        self.epochs = epochs
        self.lr = lr
        self.lr_milestones = lr_milestones
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _build_networks(self) -> Networks:
        n_features = math.prod(self.input_shape_)
        auto_hidden, auto_latent = auto_mlp_sizes(n_features)
        hidden = auto_hidden if isinstance(self.hidden_sizes, str) else tuple(int(h) for h in self.hidden_sizes)
        latent_dim = auto_latent if self.rep_dim == "auto" else int(self.rep_dim)
        if any(h <= 0 for h in hidden):
            raise ValueError(f"hidden_sizes must be positive; got {hidden}")
        # Built in this order from the fit's seeded state: the classifier first.
        modules = {
            "classifier": Classifier(n_features, hidden),
            "encoder": GaussianEncoder(n_features, hidden, latent_dim),
            "decoder": BernoulliDecoder(n_features, hidden, latent_dim),
        }
        modules = {role: module.to(self.device_) for role, module in modules.items()}
        options = {"rep_dim": latent_dim, "hidden_sizes": list(hidden)}
        return Networks(modules, latent_dim, self.device_, "mlp", options)

    def _training_plan(self) -> TrainingPlan:
        return TrainingPlan(objective=M2Objective(alpha=self.alpha), schedule=training_schedule(self))

    def encode(self, X) -> np.ndarray:
        """Not available for SSDGM: a TypeError says why.

        M2's latent code q(z | x, y) depends on the class y, so a sample has no single
        embedding; ``explain`` and ``anomaly_score`` work as for the other models.

        Parameters
        ----------
        X : array-like
            Samples of the shape seen by ``fit``.

        Returns
        -------
        ndarray
            Never: a TypeError names the reason.
        """
        raise TypeError("SSDGM has no single embedding (its latent code depends on the class); use anomaly_score or "
                        "explain, or a model with an encoder (DeepSAD, DeepSVDD, HSC, Autoencoder)")
