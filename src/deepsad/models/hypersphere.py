"""The shared pipeline of the hypersphere methods (Deep SAD, Deep SVDD, HSC): autoencoder
pretraining → encoder weights kept → center c → training → scores ‖φ(x) − c‖²-like."""

from __future__ import annotations

import warnings

import torch

from deepsad.labels import ANOMALY
from deepsad.models.deep import SCORING_BATCH_SIZE, DeepDetector, embedding_collapsed
from deepsad.training import batched_forward, train

# Center coordinates nearer zero than this are pushed out to ±CENTER_MIN_ABS: a zero
# coordinate is trivially matched by zero weights feeding that unit (Ruff et al., 2018).
CENTER_MIN_ABS = 0.1


def initial_center(encoder: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Mean embedding of ``inputs`` (eval mode, every sample), with |c_k| < 0.1 → ±0.1."""
    encoder.eval()
    center = batched_forward(encoder, inputs, SCORING_BATCH_SIZE, inputs.device).double().mean(dim=0)
    near_zero = center.abs() < CENTER_MIN_ABS
    center[near_zero & (center < 0)] = -CENTER_MIN_ABS
    center[near_zero & (center >= 0)] = CENTER_MIN_ABS
    return center.float().to(inputs.device)


class HypersphereDetector(DeepDetector):
    """Base of Deep SAD, Deep SVDD and HSC; subclasses give the loss and the score."""

    def _fit_network(self, encoder, decoder, inputs, labels, generator) -> None:
        if self.pretrain:
            log = self._train_autoencoder(encoder, decoder, inputs, labels, generator, "pretraining")
            self.history_["pretrain"] = vars(log)
        normal_inputs = inputs[labels != ANOMALY]
        self.encoder_ = encoder
        self.center_ = initial_center(encoder, normal_inputs)
        self._prepare_training(labels)
        log = train(
            self._trainable_module(), inputs, labels, self._batch_loss, self._schedule(), generator,
            description=type(self).__name__, verbose=self.verbose,
            on_epoch_end=lambda epoch: self._after_epoch(epoch, normal_inputs),
        )
        self.history_["train"] = vars(log)
        self._after_training(normal_inputs)
        self._check_collapse(normal_inputs)

    def _trainable_module(self) -> torch.nn.Module:
        return self.encoder_

    def _prepare_training(self, labels: torch.Tensor) -> None:
        """Set up method state before the main stage (e.g. the radius)."""

    def _after_epoch(self, epoch: int, normal_inputs: torch.Tensor) -> None:
        """Per-epoch hook after the updates (e.g. re-solving the radius)."""

    def _after_training(self, normal_inputs: torch.Tensor) -> None:
        """Final method state after the main stage."""

    def _embed(self, batch: torch.Tensor) -> torch.Tensor:
        return self.encoder_(batch)

    def _squared_distances(self, batch: torch.Tensor) -> torch.Tensor:
        return ((self._embed(batch) - self.center_) ** 2).sum(dim=1)

    def _check_collapse(self, normal_inputs: torch.Tensor) -> None:
        self._eval_mode()
        embeddings = batched_forward(self._embed, normal_inputs, SCORING_BATCH_SIZE, self.device_)
        collapsed, variance = embedding_collapsed(embeddings, self.center_.cpu())
        self.history_["embedding_variance"] = variance
        self.history_["collapsed"] = collapsed
        if collapsed:
            warnings.warn(
                f"{type(self).__name__} collapsed: the training embeddings have (near-)zero "
                f"variance ({variance:.3g}), so every input lands on the same point and the "
                "scores carry no information. Check the network for bias terms or bounded "
                "activations, or lower the learning rate / weight decay.",
                UserWarning,
                stacklevel=4,
            )

    # -------------------------------------------------------- persistence
    def _state_tensors(self) -> dict[str, torch.Tensor]:
        return {**super()._state_tensors(), "center": self.center_}

    def _restore_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        super()._restore_tensors(tensors)
        self.center_ = tensors["center"].to(self.device_)
