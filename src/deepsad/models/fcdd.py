"""Fully Convolutional Data Description (Liznerski et al., "Explainable Deep One-Class
Classification", ICLR 2021; the thesis "Deep One-Class Learning", ch. 3): an anomaly score
that is the mean of a map, and that map, upsampled, as the explanation heatmap."""

from __future__ import annotations

import copy
from numbers import Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from deepsad.base import never_nan
from deepsad.labels import ANOMALY
from deepsad.models.deep import COMMON_CONSTRAINTS, TRAINING_CONSTRAINTS, DeepDetector, TrainingPlan, training_schedule
from deepsad.models.device import draw_seed
from deepsad.models.objective import Networks, Objective
from deepsad.models.persistence import savable
from deepsad.networks.fully_convolutional import GaussianUpsampler, fully_convolutional_network, receptive_field
from deepsad.objectives import hsc_loss
from deepsad.parameters import POSITIVE_REAL, Interval, check_parameters, options
from deepsad.synthetic_anomalies import add_defects
from deepsad.training import INFERENCE_BATCH_SIZE, batched_forward
from deepsad.user_warnings import warn
from deepsad.validation import check_input, check_labels


class FCDDObjective(Objective):
    """The pseudo-Huber map A(x) = sqrt(φ(x)² + 1) − 1 of a fully convolutional φ; the HSC
    loss on its mean: normal and unlabeled samples minimise mean A(x), labeled anomalies
    −log(1 − exp(−mean A(x))), weighted by η. Score: mean A(x).

    With pixel masks (the FCDD paper's semi-supervised variant), the loss is on the upsampled
    map A'(x) at the image's resolution, per image with m pixels and mask y:
    (1/m) Σ (1 − y_j) A'_j − log(1 − exp(−(1/m) Σ y_j A'_j)), the second term only where some
    pixel is anomalous; weighted by η for labeled images."""

    def __init__(self, eta: float, eps: float, sigma: float | None = None):
        super().__init__()
        self.eta = eta
        self.eps = eps
        self.sigma = sigma

    def targets(self, labels: np.ndarray, masks) -> torch.Tensor:
        if masks is None:
            return super().targets(labels, masks)
        # One row per image: its label, then its mask's pixels (auxiliary rows: -1, anomalous).
        pixels = np.asarray(masks, dtype=np.int8).reshape(len(masks), -1)
        return torch.from_numpy(np.concatenate([labels.astype(np.int8)[:, None], pixels], axis=1))

    def check_labels(self, labels: np.ndarray) -> None:
        if not np.any(labels == ANOMALY):
            warn(
                "FCDD was given no labeled anomalies (-1); without negatives its map can go to zero everywhere "
                "(a collapse). Label some anomalies or add auxiliary ones (Outlier Exposure)."
            )

    def assemble(self, networks: Networks) -> None:
        self.encoder = networks["encoder"]

    def maps(self, batch: torch.Tensor) -> torch.Tensor:
        """A(x) of each sample: (n, 1, u, v)."""
        features = self.encoder(batch)
        return torch.sqrt(features**2 + 1) - 1

    def batch_loss(self, batch, labels):
        if labels.ndim == 1:
            return hsc_loss(self.score(batch), labels, self.eta, self.eps)
        sample_labels, anomalous = labels[:, 0], (labels[:, 1:] != 0).to(batch.dtype)
        heat = self.upsampler(tuple(batch.shape[1:]), batch.device)(self.maps(batch)).flatten(1)
        normal_part = (heat * (1 - anomalous)).mean(dim=1)
        anomalous_mean = (heat * anomalous).mean(dim=1).clamp(min=self.eps)
        anomaly_part = torch.where(anomalous.amax(dim=1) > 0, -torch.log(-torch.expm1(-anomalous_mean)),
                                   torch.zeros_like(anomalous_mean))  # fmt: skip
        weights = torch.where(sample_labels != 0, self.eta, 1.0).to(heat.dtype)
        return (weights * (normal_part + anomaly_part)).mean()

    def upsampler(self, input_shape: tuple[int, int, int], device) -> GaussianUpsampler:
        """The fixed Gaussian upsampling of the maps of (channels, height, width) images to
        their size (the heatmaps, and the loss on pixel masks), built once per size and device;
        kept out of the module's state (``__dict__``), so it is never part of a model file."""
        upsampler = self.__dict__.get("cached_upsampler")
        image_size = tuple(input_shape[1:])
        if upsampler is None or upsampler.image_size != image_size or upsampler.kernel.device != device:
            field = receptive_field(self.encoder, tuple(input_shape))
            upsampler = GaussianUpsampler(field, image_size, self.sigma).to(device)
            self.__dict__["cached_upsampler"] = upsampler
        return upsampler

    def score(self, batch):
        return self.maps(batch).flatten(1).mean(dim=1)


@savable
class FCDD(DeepDetector):
    """Fully Convolutional Data Description: a one-class image detector that explains itself.

    A fully convolutional network φ maps an image to a small map; A(x) = sqrt(φ(x)² + 1) − 1
    per cell, and the anomaly score is the mean of A(x). Normal and unlabeled images pull the
    map to 0, labeled anomalies push it away (the loss of the Hypersphere Classifier on that
    mean). ``heatmap(X)`` spreads each cell's value over the pixels it saw (a fixed Gaussian
    transposed convolution of the network's receptive field), giving a full-resolution map of
    where an image looks anomalous. It needs anomalies among its training samples: where y
    has none, it makes some from the training images (confetti noise, the FCDD paper's
    synthetic anomalies; ``synthetic_anomalies``).

    Parameters
    ----------
    eta : float, default=1.0
        Weight η of the labeled samples' terms.
    eps : float, default=1e-6
        Keeps −log(1 − exp(−score)) finite for anomalies scored 0.
    auxiliary_fraction : float in (0, 1), default=0.5
        With ``fit(..., X_auxiliary=...)`` (Outlier Exposure): the share of auxiliary
        anomalies in every minibatch of the main stage (0.5: balanced, as in the thesis).
    synthetic_anomalies : "auto", "confetti" or None, default="auto"
        Negatives made from the training images: "confetti" pastes FCDD's confetti noise
        (``deepsad.synthetic_anomalies``) into a copy of ``synthetic_fraction`` of the
        unlabeled and normal images and adds them as labeled anomalies; "auto" does so only
        when y has no labeled anomaly; None never (then a warning says the map can collapse).
    synthetic_fraction : float in (0, 1], default=0.1
        How many synthetic anomalies, as a fraction of the unlabeled and normal images.
    sigma : "auto" or float, default="auto"
        Standard deviation, in pixels, of the Gaussian that upsamples the map; "auto" is a
        quarter of the receptive field.
    network : "auto" or nn.Module, default="auto"
        The network φ. "auto" is the thesis' network for 1×28×28 images (Fashion-MNIST) or 3×32×32 images
        (CIFAR-10), and three convolution-and-pooling blocks for other sizes (at least 8×8).
        A user's ``nn.Module`` maps (n, c, h, w) to (n, 1, u, v) with square convolutions,
        poolings and padding layers and element-wise layers (activations, BatchNorm), so that
        its receptive field is defined (traced through one forward pass); layers that move or
        mix cells (adaptive pooling, flattening, pixel shuffles, upsampling, linear layers)
        and branches that resize the map are refused.
    scaler : "auto" or None, default="auto"
        Images are used as given (scale pixels to [0, 1]); kept for the shared interface.
    epochs : int, default=150
        Training epochs; 0 trains nothing.
    lr : float, default=1e-4
        Adam's learning rate.
    lr_milestones : sequence of int, default=(50,)
        Epochs after whose updates the learning rate is multiplied by 0.1.
    batch_size : int, default=128
        Minibatch size.
    weight_decay : float, default=1e-6
        Adam's weight decay λ.
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data (known anomalies excluded) above ``threshold_``;
        "auto" is 0.05.
    device : str or torch.device, default="auto"
        "auto" (CUDA when present, else the CPU), "cpu" or "cuda[:N]".
    random_state : int, RandomState, Generator or None, default=None
        Seed of the initial weights and the minibatch order; an int gives identical results
        on the CPU.
    verbose : bool, default=False
        Show a progress bar while training.

    Attributes
    ----------
    model_ : FCDDObjective
        The fitted model, an ``nn.Module``: ``model_.score(batch)`` is the anomaly score and
        ``model_.maps(batch)`` the map A(x).
    encoder_ : nn.Module
        The trained network φ.
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    history_ : dict
        Per-epoch losses, learning rates and seconds of ``"train"``.
    rep_dim_ : int
        Cells of the output map.
    network_name_ : str or None
        "fcdd" for the built-in networks, None for a user's module.
    network_options_ : dict
        Empty: the built-in networks have no options.
    scaler_ : None
        Images are not rescaled.
    device_ : torch.device
        Where the model lives.
    input_shape_ : tuple of int
        Shape of one image.
    n_features_in_ : int
        Number of channels.

    See Also
    --------
    HSC : The same loss on a vector embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad import FCDD
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((64, 1, 28, 28)).astype(np.float32)
    >>> y = np.r_[np.zeros(56), -np.ones(8)]
    >>> model = FCDD(epochs=2, random_state=0).fit(images, y)
    >>> model.heatmap(images[:2]).shape
    (2, 28, 28)
    """

    _parameter_constraints = {
        "eta": [POSITIVE_REAL],
        "eps": [POSITIVE_REAL],
        "auxiliary_fraction": [Interval(Real, 0, 1, closed="neither")],
        "synthetic_anomalies": [options("auto", "confetti"), None],
        "synthetic_fraction": [Interval(Real, 0, 1, closed="right")],
        "sigma": [options("auto"), POSITIVE_REAL],
        "network": [options("auto"), torch.nn.Module],
        **TRAINING_CONSTRAINTS,
        **COMMON_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        eta=1.0,
        eps=1e-6,
        auxiliary_fraction=0.5,
        synthetic_anomalies="auto",
        synthetic_fraction=0.1,
        sigma="auto",
        network="auto",
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
        self.eta = eta
        self.eps = eps
        self.auxiliary_fraction = auxiliary_fraction
        self.synthetic_anomalies = synthetic_anomalies
        self.synthetic_fraction = synthetic_fraction
        self.sigma = sigma
        self.network = network
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

    def fit(self, X, y=None, *, X_auxiliary=None, masks=None):
        """Fit the detector.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Training images (pixels in [0, 1], or uint8).
        y : array-like of shape (n_samples,), default=None
            Semi-supervised labels: +1 known normal, 0 unlabeled, -1 known anomaly (None:
            all unlabeled).
        X_auxiliary : array-like of the shape of X, default=None
            Outlier Exposure: auxiliary anomalous images, drawn into every minibatch
            (``auxiliary_fraction`` of it); with them, "auto" makes no synthetic anomalies.
        masks : array-like of shape (n_samples, height, width), default=None
            Pixel-level ground truth: 1 (or True) where an image is anomalous. Then FCDD learns
            where anomalies are, not only which images hold them (the loss is on the
            upsampled heatmap, pixel by pixel). Images labeled normal or unlabeled must have
            empty masks; a labeled anomaly with an empty mask counts as anomalous throughout,
            as do auxiliary anomalies. Synthetic anomalies bring their own masks.

        Returns
        -------
        self
            The fitted detector.
        """
        return self._fit(X, y, X_auxiliary, masks)

    def _start_fit(self, X, y, X_auxiliary=None, masks=None):
        # The synthetic anomalies and the masks join the data here, inside the pipeline, so
        # that fit_many (which starts fits without fit) makes them too, and a refused fit
        # leaves the estimator unfitted rather than half refitted.
        check_parameters(self)
        mode = self.synthetic_anomalies
        labels = check_labels(y, len(X)) if mode is not None or masks is not None else None
        images = None
        if masks is not None:
            images = check_input(self, X, reset=True, allowed_ndim=(4,))
            masks = _checked_masks(masks, images.shape, labels)
        if mode == "confetti" or (mode == "auto" and X_auxiliary is None and not np.any(labels == ANOMALY)):
            images = check_input(self, X, reset=True, allowed_ndim=(4,)) if images is None else images
            rng = np.random.default_rng(draw_seed(self.random_state))
            pool = np.flatnonzero(labels != ANOMALY)
            if len(pool) == 0:
                raise ValueError("synthetic anomalies are pasted into unlabeled or normal images; y labels every "
                                 "image as an anomaly")
            chosen = rng.choice(pool, max(1, round(self.synthetic_fraction * len(pool))), replace=False)
            confetti, confetti_masks = add_defects(images[chosen], "confetti", rng)
            X, y = np.concatenate([images, confetti]), np.r_[labels, np.full(len(chosen), ANOMALY)]
            if masks is not None:
                masks = np.concatenate([masks, confetti_masks.astype(bool)])
        return super()._start_fit(X, y, X_auxiliary, masks)

    def _build_networks(self) -> Networks:
        if len(self.input_shape_) != 3:
            raise ValueError(
                f"FCDD explains images: X must have shape (n_samples, channels, height, width); got samples of shape "
                f"{tuple(self.input_shape_)}. For tables use DeepSAD, HSC or DeepSVDD (and their explain())"
            )
        name = "fcdd" if isinstance(self.network, str) else None
        # A user's module is copied, as every estimator does: fitting never trains the caller's object.
        network = fully_convolutional_network(self.input_shape_) if name else copy.deepcopy(self.network)
        network = network.to(self.device_)
        # a network whose heatmap cannot be drawn is refused before training
        receptive_field(network, tuple(self.input_shape_))
        with torch.no_grad():
            probe = network.eval()(torch.zeros(2, *self.input_shape_, device=self.device_))
        network.train()
        if probe.shape[1] != 1:
            raise ValueError(f"FCDD's network must map (n, c, h, w) to (n, 1, u, v); it gives {tuple(probe.shape)}")
        return Networks({"encoder": network}, int(probe.shape[2] * probe.shape[3]), self.device_, name, {})

    def _training_plan(self) -> TrainingPlan:
        sigma = None if self.sigma == "auto" else self.sigma
        return TrainingPlan(objective=FCDDObjective(eta=self.eta, eps=self.eps, sigma=sigma),
                            schedule=training_schedule(self))

    def encode(self, X) -> np.ndarray:
        """The maps φ(x) flattened: FCDD's embedding, one value per cell.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Images of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, rep_dim_)
            The network's output map of each image, flattened.
        """
        return super().encode(X).reshape(len(X), -1)

    def heatmap(self, X) -> np.ndarray:
        """Full-resolution maps of where each image looks anomalous.

        Parameters
        ----------
        X : array-like of shape (n_samples, channels, height, width)
            Images of the shape seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, height, width)
            A(x) upsampled by the network's receptive field: higher means more anomalous.
            Pixels of an image that overflowed the float32 range inside the network are +inf,
            with a warning, as its anomaly score is.
        """
        check_is_fitted(self)
        X = check_input(self, X, reset=False)
        upsampler = self.model_.upsampler(tuple(self.input_shape_), self.device_)
        self.model_.eval()
        with torch.no_grad():
            maps = batched_forward(lambda batch: upsampler(self.model_.maps(batch))[:, 0], torch.from_numpy(X),
                                   INFERENCE_BATCH_SIZE, self.device_)  # fmt: skip
        return never_nan(maps.numpy().astype(np.float64), "image(s)", "their heatmaps are +inf where not finite")


def _checked_masks(masks, image_shape: tuple[int, ...], labels: np.ndarray) -> np.ndarray:
    """Boolean masks (n, height, width) of the training images, checked against them and their
    labels; a labeled anomaly's empty mask becomes a full one (anomalous, place unknown)."""
    n, _, height, width = image_shape
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.shape != (n, height, width):
        raise ValueError(f"masks must have shape (n_samples, height, width) = {(n, height, width)}, one per training "
                         f"image; got {masks.shape}")
    if masks.dtype != bool:
        if not np.issubdtype(masks.dtype, np.number) or not np.isin(masks, (0, 1)).all():
            raise ValueError("masks must be boolean or hold only 0 (normal pixel) and 1 (anomalous pixel)")
        masks = masks.astype(bool)
    marked = masks.reshape(n, -1).any(axis=1)
    wrong = np.flatnonzero(marked & (labels != ANOMALY))
    if len(wrong):
        raise ValueError(
            f"masks mark anomalous pixels in {len(wrong)} image(s) that y does not label as anomalies (-1), e.g. "
            f"rows {wrong[:5].tolist()}: label them -1, or empty their masks"
        )
    masks = masks.copy()
    masks[(labels == ANOMALY) & ~marked] = True
    return masks
