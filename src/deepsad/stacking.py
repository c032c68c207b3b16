"""Training K models of one architecture as one: their parameters stacked along a model axis.

``train_stacked`` does what ``deepsad.training.train`` does for each of K modules, in one pass:
the modules' parameters and buffers are stacked (``torch.func.stack_module_state``) and one
functional copy of the module is applied to all of them with ``torch.func.vmap``. Each model
keeps its own inputs, labels and minibatch order (its own generator); BatchNorm statistics stay
per model. Adam and weight decay act elementwise, so one optimizer over the stacked parameters
takes exactly the steps of K optimizers, and the K models end where K separate runs end, up to
the order of floating-point reductions (tests/test_stacking.py).

Models can be trained together when ``stack_key`` gives them the same key: the same module
structure, hyperparameters, input shape, number of samples (hence the same minibatch sizes)
and schedule, and a module that declares itself ``stackable`` (its loss depends on its
parameters, buffers and those hyperparameters only, draws no random numbers and needs nothing
done between epochs).
"""

from __future__ import annotations

import copy
import math
import time

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from deepsad.progress import progress
from deepsad.training import BatchLoss, Schedule, TrainingDiverged, TrainingLog, minibatches


def stack_key(module: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, schedule: Schedule) -> tuple | None:
    """What must be equal for modules to train together (None: ``module`` trains alone)."""
    if not getattr(module, "stackable", False):
        return None
    # The training applies module 0's structure to every model: each part's plain settings
    # (e.g. a user network's scale factor) must agree; a part that keeps a tensor outside its
    # parameters and buffers is not stacked (only the stacked state differs between models).
    settings = []
    for name, part in module.named_modules():
        plain = {}
        for attribute, value in vars(part).items():
            if attribute.startswith("_") or attribute == "training":
                continue
            if isinstance(value, torch.Tensor) and part is not module:
                return None
            if not isinstance(value, (torch.Tensor, nn.Module)):
                plain[attribute] = value
        settings.append((name, type(part).__qualname__, repr(sorted(plain.items()))))
    state = tuple((name, tuple(t.shape), t.dtype) for name, t in module.state_dict().items())
    return (
        type(module), repr(module), tuple(settings), state,
        tuple(inputs.shape), inputs.dtype, str(inputs.device), labels.dtype, schedule,
    )


class _Loss(nn.Module):
    """A module whose forward is ``batch_loss`` of the module it wraps (what vmap applies)."""

    def __init__(self, module: nn.Module, batch_loss_name: str):
        super().__init__()
        self.module = module
        self.batch_loss_name = batch_loss_name

    def forward(self, batch, labels):
        return getattr(self.module, self.batch_loss_name)(batch, labels)


def train_stacked(
    modules: list[nn.Module],
    inputs: list[torch.Tensor],
    labels: list[torch.Tensor],
    schedule: Schedule,
    generators: list[torch.Generator],
    *,
    batch_loss: str = "batch_loss",
    description: str = "training",
    verbose: bool = False,
) -> list[TrainingLog]:
    """Train each module on its own inputs and labels (on one device, all of one shape) as
    ``train`` would, all in one pass; the trained weights and buffers are copied back into
    the modules. ``batch_loss`` names the method of the modules that gives the mean loss of a
    minibatch. Each log records the pass's seconds per epoch divided by the number of models.
    Raises ``TrainingDiverged`` naming the first model (by position) whose loss is not finite."""
    count = len(modules)
    wrapped = [_Loss(module, batch_loss) for module in modules]
    params, buffers = stack_module_state(wrapped)
    # The structure the stacked state is applied to; its own tensors are never used (and tensors
    # it keeps as plain attributes, such as training data, are not copied).
    plain_tensors = {id(v): None for v in vars(modules[0]).values() if isinstance(v, torch.Tensor)}
    template = copy.deepcopy(wrapped[0], plain_tensors).to("meta")

    def loss_of_one_model(model_params, model_buffers, batch, batch_labels):
        return functional_call(template, (model_params, model_buffers), (batch, batch_labels))

    batched_loss = vmap(loss_of_one_model)
    stacked_inputs, stacked_labels = torch.stack(inputs), torch.stack(labels)
    models = torch.arange(count, device=stacked_inputs.device)[:, None]
    n_samples = stacked_inputs.shape[1]

    optimizer = torch.optim.Adam(params.values(), lr=schedule.learning_rate, weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(schedule.milestones),
                                                     gamma=schedule.gamma)
    logs = [TrainingLog() for _ in modules]
    epochs = progress(range(schedule.epochs), description=f"{description} ({count} models)", enabled=verbose)
    for epoch in epochs:
        started = time.perf_counter()
        template.train()
        orders = [minibatches(n_samples, schedule.batch_size, g, stacked_inputs.device) for g in generators]
        batch_losses = []
        for step in range(len(orders[0])):
            batch = torch.stack([order[step] for order in orders])
            losses = batched_loss(params, buffers, stacked_inputs[models, batch], stacked_labels[models, batch])
            optimizer.zero_grad(set_to_none=True)
            # The models share no parameter, so the gradient of the sum is each model's own.
            losses.sum().backward()
            optimizer.step()
            batch_losses.append(losses.detach())
        sizes = torch.tensor([len(b) for b in orders[0]], dtype=torch.float32, device=stacked_inputs.device)
        epoch_losses = (torch.stack(batch_losses).float().T @ sizes / n_samples).tolist()
        for index, loss in enumerate(epoch_losses):
            if not math.isfinite(loss):
                raise TrainingDiverged(
                    f"{description}: the loss of model {index} became {loss} in epoch {epoch + 1}; "
                    "lower the learning rate or check the input scale"
                )
        learning_rate = optimizer.param_groups[0]["lr"]
        scheduler.step()
        seconds = (time.perf_counter() - started) / count
        for log, loss in zip(logs, epoch_losses):
            log.loss.append(loss)
            log.learning_rate.append(learning_rate)
            log.seconds.append(seconds)
        if verbose:
            epochs.set_postfix(loss=f"{sum(epoch_losses) / count:.4g}")

    with torch.no_grad():  # every parameter and buffer, persistent or not
        for index, module in enumerate(wrapped):
            for name, tensor in (*module.named_parameters(), *module.named_buffers()):
                tensor.copy_({**params, **buffers}[name][index])
    return logs


__all__ = ["BatchLoss", "stack_key", "train_stacked"]
