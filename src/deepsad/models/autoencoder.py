"""The autoencoder as an anomaly detector: score = reconstruction error."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from deepsad.models.deep import SCORING_BATCH_SIZE, DeepDetector, _with_prefix
from deepsad.objectives import reconstruction_error
from deepsad.training import batched_forward
from deepsad.validation import check_input


class Autoencoder(DeepDetector):
    """The pretraining autoencoder of the deep methods, used as a detector: the anomaly score
    is the mean squared reconstruction error. Unsupervised: samples labeled -1 are left out of
    training, with a warning. Its stage uses the ``ae_*`` parameters (epochs, lr, ...);
    ``pretrain`` and the main-stage parameters do not apply. ``encode(X)`` returns the
    bottleneck codes φ(x), on which ``deepsad.baselines.Hybrid`` fits a shallow detector.

    Example
    -------
    >>> import numpy as np
    >>> from deepsad import Autoencoder
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> Autoencoder(ae_epochs=5, random_state=0).fit(X).anomaly_score(X[:2]).shape
    (2,)
    """

    _uses_labels = False

    def _fit_network(self, encoder, decoder, inputs, labels, generator) -> None:
        self.encoder_, self.decoder_ = encoder, decoder
        log = self._train_autoencoder(encoder, decoder, inputs, labels, generator, "Autoencoder")
        self.history_["train"] = vars(log)

    def encode(self, X) -> np.ndarray:
        """The bottleneck codes φ(x) of X, shape (n_samples, rep_dim_), computed batch by
        batch in eval mode after the same scaling as at fit time."""
        check_is_fitted(self)
        X = check_input(self, X, reset=False)
        self._eval_mode()
        inputs = torch.from_numpy(self._transform(X))
        return batched_forward(self.encoder_, inputs, SCORING_BATCH_SIZE, self.device_).numpy()

    def _score_batch(self, batch):
        return reconstruction_error(self.decoder_(self.encoder_(batch)), batch)

    def _eval_mode(self) -> None:
        self.encoder_.eval()
        self.decoder_.eval()

    def _state_tensors(self) -> dict[str, torch.Tensor]:
        decoder_state = {f"decoder.{k}": v for k, v in self.decoder_.state_dict().items()}
        return {**super()._state_tensors(), **decoder_state}

    def _load_networks(self, encoder, decoder, tensors) -> None:
        super()._load_networks(encoder, decoder, tensors)
        self.decoder_ = decoder
        self.decoder_.load_state_dict(_with_prefix(tensors, "decoder."))
