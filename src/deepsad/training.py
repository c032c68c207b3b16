"""One training loop for every deep method: data as tensors on the device, minibatches by
index, Adam with weight decay, and a multi-step learning-rate schedule counted in epochs."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from deepsad.labels import ANOMALY
from deepsad.progress import progress

BatchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""Maps a minibatch (inputs, semi-supervised labels) to its mean loss."""


@dataclass(frozen=True)
class Schedule:
    """How long and how fast to train.

    ``milestones`` are epoch numbers after whose updates the learning rate is multiplied
    by ``gamma`` (the reference code stepped its scheduler before the optimizer and so
    decayed one epoch early).
    """

    epochs: int
    learning_rate: float
    milestones: tuple[int, ...] = ()
    batch_size: int = 128
    weight_decay: float = 0.0
    gamma: float = 0.1


@dataclass
class TrainingLog:
    """Per-epoch mean loss, learning rate and wall time of one training run."""

    loss: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def auxiliary_count(batch_size: int, fraction: float) -> int:
    """How many auxiliary samples make up ``fraction`` of a batch with ``batch_size`` others."""
    return max(1, round(batch_size * fraction / (1 - fraction)))


def minibatches(n_samples: int, batch_size: int, generator: torch.Generator, device) -> list[torch.Tensor]:
    """Shuffled index batches covering every sample once. A trailing batch of one sample is
    merged into the one before it, because BatchNorm cannot normalise a single sample."""
    order = torch.randperm(n_samples, generator=generator).to(device)
    batches = list(order.split(batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2:] = [torch.cat(batches[-2:])]
    return batches


def train(
    module: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    batch_loss: BatchLoss,
    schedule: Schedule,
    generator: torch.Generator,
    *,
    description: str = "training",
    verbose: bool = False,
    on_epoch_end: Callable[[int], None] | None = None,
    auxiliary: torch.Tensor | None = None,
    auxiliary_fraction: float = 0.5,
) -> TrainingLog:
    """Optimise ``module``'s parameters on ``batch_loss`` over ``inputs`` (already on the
    device). ``on_epoch_end(epoch)`` runs after each epoch's updates (e.g. to re-solve R).

    Outlier Exposure: with ``auxiliary`` (anomalies on the device), every minibatch is topped
    up with them to ``auxiliary_fraction`` of its size, drawn at random with the generator and
    labeled -1. ``labels`` may have more than one column per sample (FCDD's pixel masks); an
    auxiliary sample's row is -1 throughout."""
    optimizer = torch.optim.Adam(
        module.parameters(), lr=schedule.learning_rate, weight_decay=schedule.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=list(schedule.milestones), gamma=schedule.gamma
    )
    log = TrainingLog()
    n_samples = inputs.shape[0]
    epochs = progress(range(schedule.epochs), description=description, enabled=verbose)
    for epoch in epochs:
        started = time.perf_counter()
        module.train()
        batches = minibatches(n_samples, schedule.batch_size, generator, inputs.device)
        batch_losses = []
        for batch in batches:
            batch_inputs, batch_labels = inputs.index_select(0, batch), labels.index_select(0, batch)
            if auxiliary is not None:
                count = auxiliary_count(len(batch), auxiliary_fraction)
                drawn = torch.randint(len(auxiliary), (count,), generator=generator).to(inputs.device)
                batch_inputs = torch.cat([batch_inputs, auxiliary.index_select(0, drawn)])
                batch_labels = torch.cat([batch_labels, labels.new_full((count, *labels.shape[1:]), ANOMALY)])
            loss = batch_loss(batch_inputs, batch_labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.detach())
        # One reduction (and one device sync) per epoch instead of one per batch.
        sizes = torch.tensor([len(b) + (auxiliary_count(len(b), auxiliary_fraction) if auxiliary is not None else 0)
                              for b in batches], dtype=torch.float32, device=inputs.device)
        epoch_loss = float(torch.stack(batch_losses).float() @ sizes) / float(sizes.sum())
        if not math.isfinite(epoch_loss):
            raise TrainingDiverged(
                f"{description}: the loss became {epoch_loss} in epoch {epoch + 1}; "
                "lower the learning rate or check the input scale"
            )
        log.loss.append(epoch_loss)
        log.learning_rate.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
        if on_epoch_end is not None:
            on_epoch_end(epoch)
        log.seconds.append(time.perf_counter() - started)
        if verbose:
            epochs.set_postfix(loss=f"{epoch_loss:.4g}")
    return log


INFERENCE_BATCH_SIZE = 1024
"""Batch size of scoring and embedding: inference needs no gradients, so larger batches than
in training are cheap and faster."""


@torch.no_grad()
def batched_forward(
    function: Callable[[torch.Tensor], torch.Tensor],
    inputs: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> torch.Tensor:
    """Apply ``function`` batch by batch (inputs moved to ``device`` one batch at a time) and
    return the results concatenated on the CPU, so memory stays bounded for any input size."""
    outputs = [function(chunk.to(device, non_blocking=True)).cpu() for chunk in inputs.split(batch_size)]
    return torch.cat(outputs) if outputs else torch.empty(0)
