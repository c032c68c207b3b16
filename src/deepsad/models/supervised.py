"""The supervised baseline of Ruff et al. (ICLR 2020): a deep binary classifier that learns
labeled anomalies against everything else."""

from __future__ import annotations

import warnings
from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from deepsad.labels import ANOMALY
from deepsad.models.deep import DeepDetector, _with_prefix, shared_parameters
from deepsad.training import train

# The output's decision boundary p(anomaly | x) = 0.5, on the logit scale of the scores.
LOGIT_DECISION_BOUNDARY = 0.0


def anomaly_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, anomaly_weight: float) -> torch.Tensor:
    """Binary cross-entropy with the labeled anomalies (-1) as the positive class and every
    other sample, unlabeled (0) or known normal (+1), as negative. ``anomaly_weight``
    multiplies the positive terms (1 is plain BCE)."""
    targets = (labels == ANOMALY).to(logits.dtype)
    pos_weight = torch.tensor(anomaly_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight)


class SupervisedClassifier(DeepDetector):
    """Deep binary classifier: the deep methods' encoder φ followed by one linear output (a
    logit with bias), trained with binary cross-entropy where labeled anomalies (-1) are the
    positive class and unlabeled (0) and known-normal (+1) samples are treated as normal —
    the supervised baseline of the Deep SAD paper. It needs labeled anomalies and, unlike
    the one-class methods, learns only the anomalies it was shown.

    The anomaly score is the logit log p/(1 − p) of p = p(anomaly | x): a monotone map of the
    probability (sigmoid(score) = p) that does not saturate at 0 or 1 in floating point, so
    confident samples keep their ranking. With ``contamination="auto"`` the threshold is the
    classifier's own boundary p = 0.5 (logit 0).

    With ``pretrain=True`` (the default) φ starts from the weights of an autoencoder trained
    on all training data, as for Deep SAD, so the two differ only in their objective.

    Parameters
    ----------
    anomaly_weight : float, default=1.0
        Weight of the labeled anomalies' terms in the cross-entropy (PyTorch's
        ``pos_weight``). 1 is the plain BCE of the paper; larger values counter the class
        imbalance of a few labeled anomalies among many unlabeled samples.
    **kwargs
        The shared deep-detector parameters: network, rep_dim, hidden_sizes, decoder, scaler,
        pretrain, epochs, lr, lr_milestones, batch_size, weight_decay, ae_* (the pretraining
        stage), contamination, device, random_state, verbose.

    Example
    -------
    >>> import numpy as np
    >>> from deepsad.models import SupervisedClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 4)), rng.normal(4, 1, size=(10, 4))])
    >>> y = np.r_[np.zeros(200), -np.ones(10)]
    >>> model = SupervisedClassifier(epochs=5, ae_epochs=5, random_state=0).fit(X, y)
    >>> model.anomaly_score(X).shape
    (210,)
    """

    _parameter_constraints = {
        **DeepDetector._parameter_constraints,
        "anomaly_weight": [Interval(Real, 0, None, closed="neither")],
    }

    @shared_parameters
    def __init__(self, *, anomaly_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.anomaly_weight = anomaly_weight

    def _build_networks(self):
        # The base class warns that a custom network with biases can collapse onto the
        # hypersphere's center; a classifier has no center, so the warning does not apply.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*hypersphere collapse", category=UserWarning)
            encoder, decoder = super()._build_networks()
        # Built here, under fit's seeded random state, so its initial weights depend on
        # random_state alone; the bias lets the logit absorb the class imbalance.
        self.output_layer_ = torch.nn.Linear(self.rep_dim_, 1).to(self.device_)
        return encoder, decoder

    def _fit_network(self, encoder, decoder, inputs, labels, generator) -> None:
        if not bool((labels == ANOMALY).any()):
            raise ValueError(
                "SupervisedClassifier needs labeled anomalies: y has no -1 label, so there is no "
                "positive class to learn. Label some anomalies (-1), or use DeepSAD/DeepSVDD, "
                "which learn from unlabeled data alone."
            )
        if self.pretrain:
            log = self._train_autoencoder(encoder, decoder, inputs, labels, generator, "pretraining")
            self.history_["pretrain"] = vars(log)
        self.encoder_ = encoder
        classifier = torch.nn.Sequential(encoder, self.output_layer_)

        def batch_loss(batch, batch_labels):
            return anomaly_cross_entropy(classifier(batch).squeeze(1), batch_labels, self.anomaly_weight)

        log = train(
            classifier, inputs, labels, batch_loss, self._schedule(), generator,
            description="SupervisedClassifier", verbose=self.verbose,
        )
        self.history_["train"] = vars(log)

    def _score_batch(self, batch):
        return self.output_layer_(self.encoder_(batch)).squeeze(1)

    def _natural_threshold(self) -> float:
        return LOGIT_DECISION_BOUNDARY

    def _eval_mode(self) -> None:
        self.encoder_.eval()
        self.output_layer_.eval()

    # -------------------------------------------------------- persistence
    def _state_tensors(self) -> dict[str, torch.Tensor]:
        output_state = {f"output_layer.{k}": v for k, v in self.output_layer_.state_dict().items()}
        return {**super()._state_tensors(), **output_state}

    def _load_networks(self, encoder, decoder, tensors) -> None:
        super()._load_networks(encoder, decoder, tensors)
        self.output_layer_.load_state_dict(_with_prefix(tensors, "output_layer."))
