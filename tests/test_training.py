import pytest
import torch
from torch import nn

from deepsad.training import Schedule, batched_forward, minibatches, train


def _setup(n=50):
    torch.manual_seed(0)
    module = nn.Linear(3, 1, bias=False)
    inputs = torch.randn(n, 3)
    labels = torch.zeros(n, dtype=torch.int8)
    return module, inputs, labels


def _loss(module):
    return lambda batch, labels: (module(batch) ** 2).mean()


def test_milestones_take_effect_after_that_epochs_updates():
    module, inputs, labels = _setup()
    schedule = Schedule(epochs=5, learning_rate=1.0, milestones=(2, 4), batch_size=10)
    log = train(module, inputs, labels, _loss(module), schedule, torch.Generator().manual_seed(0))
    assert log.learning_rate == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])
    assert len(log.loss) == len(log.seconds) == 5


def test_training_reduces_loss_and_is_deterministic():
    results = []
    for _ in range(2):
        module, inputs, labels = _setup()
        schedule = Schedule(epochs=20, learning_rate=0.05, batch_size=8)
        log = train(module, inputs, labels, _loss(module), schedule, torch.Generator().manual_seed(1))
        results.append((log.loss, module.weight.detach().clone()))
    assert results[0][0][-1] < results[0][0][0]
    assert results[0][0] == results[1][0]
    assert torch.equal(results[0][1], results[1][1])


def test_set_smaller_than_one_batch_still_trains():
    module, inputs, labels = _setup(n=5)
    before = module.weight.detach().clone()
    schedule = Schedule(epochs=2, learning_rate=0.1, batch_size=128)
    log = train(module, inputs, labels, _loss(module), schedule, torch.Generator().manual_seed(0))
    assert len(log.loss) == 2
    assert not torch.equal(before, module.weight)


def test_minibatches_cover_every_sample_and_never_leave_one_alone():
    batches = minibatches(129, 128, torch.Generator().manual_seed(0), "cpu")
    assert [len(b) for b in batches] == [129]
    assert sorted(torch.cat(batches).tolist()) == list(range(129))
    assert [len(b) for b in minibatches(300, 128, torch.Generator().manual_seed(0), "cpu")] == [128, 128, 44]


def test_weight_decay_is_applied():
    module, inputs, labels = _setup()
    schedule = Schedule(epochs=30, learning_rate=0.05, batch_size=10, weight_decay=10.0)
    zero_loss = lambda batch, labels: (module(batch) * 0).sum()
    train(module, inputs, labels, zero_loss, schedule, torch.Generator().manual_seed(0))
    assert module.weight.abs().max() < 0.05


def test_batched_forward_matches_one_pass():
    module, inputs, _ = _setup(n=1000)
    expected = module(inputs).detach()
    assert torch.allclose(batched_forward(module, inputs, 64, torch.device("cpu")), expected)
