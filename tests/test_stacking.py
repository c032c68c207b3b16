"""Models trained together end where the same models trained one by one end."""

import pytest
import torch
from torch import nn

from deepsad.networks import build_network
from deepsad.objectives import deep_sad_loss, reconstruction_error
from deepsad.stacking import stack_key, train_stacked
from deepsad.training import Schedule, TrainingDiverged, train

SCHEDULE = Schedule(epochs=4, learning_rate=1e-3, milestones=(2,), batch_size=16, weight_decay=1e-4)


class SADLoss(nn.Module):
    stackable = True

    def __init__(self, encoder, eta=1.0):
        super().__init__()
        self.encoder = encoder
        self.eta = eta
        self.register_buffer("center", torch.full((encoder.code.out_features,), 0.5))

    def batch_loss(self, batch, labels):
        return deep_sad_loss(((self.encoder(batch) - self.center) ** 2).sum(1), labels, self.eta, 1e-6)


class AutoencoderLoss(nn.Module):
    stackable = True

    def __init__(self, network):
        super().__init__()
        self.encoder, self.decoder = network.encoder, network.decoder

    def batch_loss(self, batch, labels):
        return reconstruction_error(self.decoder(self.encoder(batch)), batch).mean()


def _data(k, shape, n=70):
    generator = torch.Generator().manual_seed(100 + k)
    inputs = torch.rand((n, *shape), generator=generator)
    labels = torch.zeros(n, dtype=torch.int8)
    labels[k : k + 3] = -1
    labels[10 + k] = 1
    return inputs, labels


def _both_ways(make, shape, count=3):
    data = [_data(k, shape) for k in range(count)]
    alone = []
    for k in range(count):
        torch.manual_seed(k)
        module = make()
        train(module, *data[k], module.batch_loss, SCHEDULE, torch.Generator().manual_seed(k))
        alone.append(module)
    together = []
    for k in range(count):
        torch.manual_seed(k)
        together.append(make())
    logs = train_stacked(together, [d[0] for d in data], [d[1] for d in data], SCHEDULE,
                         [torch.Generator().manual_seed(k) for k in range(count)])
    return alone, together, logs


def _assert_same_state(alone, together, atol):
    for one, other in zip(alone, together):
        for (name, a), (_, b) in zip(one.state_dict().items(), other.state_dict().items()):
            torch.testing.assert_close(a, b, atol=atol, rtol=1e-4, msg=name)


def test_stacked_mlps_with_batchnorm_equal_the_ones_trained_alone():
    alone, together, logs = _both_ways(lambda: SADLoss(build_network("mlp", (6,)).encoder), (6,))
    _assert_same_state(alone, together, atol=1e-6)
    assert [len(log.loss) for log in logs] == [4, 4, 4]
    assert logs[0].learning_rate == [1e-3, 1e-3, 1e-4, 1e-4]
    # Different data and seeds give different models: the models were not mixed up.
    assert not torch.allclose(together[0].encoder.code.weight, together[1].encoder.code.weight)


def test_stacked_lenet_autoencoders_equal_the_ones_trained_alone():
    alone, together, _ = _both_ways(lambda: AutoencoderLoss(build_network("mnist_lenet", (1, 28, 28))), (1, 28, 28),
                                    count=2)
    _assert_same_state(alone, together, atol=1e-4)


def test_the_stack_key_tells_what_can_train_together():
    inputs, labels = _data(0, (6,))
    torch.manual_seed(0)
    first, second = SADLoss(build_network("mlp", (6,)).encoder), SADLoss(build_network("mlp", (6,)).encoder)
    key = stack_key(first, inputs, labels, SCHEDULE)
    assert key is not None and key == stack_key(second, inputs, labels, SCHEDULE)
    assert stack_key(SADLoss(build_network("mlp", (6,)).encoder, eta=2.0), inputs, labels, SCHEDULE) != key
    assert stack_key(first, inputs[:50], labels[:50], SCHEDULE) != key
    assert stack_key(first, inputs, labels, Schedule(epochs=5, learning_rate=1e-3)) != key
    wide = SADLoss(build_network("mlp", (6,), hidden_sizes=(64, 32)).encoder)
    assert stack_key(wide, inputs, labels, SCHEDULE) != key
    first.stackable = False
    assert stack_key(first, inputs, labels, SCHEDULE) is None


def test_a_diverging_model_is_named():
    class Exploding(SADLoss):
        def batch_loss(self, batch, labels):
            return super().batch_loss(batch, labels) * torch.where(self.center[0] > 1, torch.inf, 1.0)

    modules = [Exploding(build_network("mlp", (6,)).encoder) for _ in range(3)]
    with torch.no_grad():
        modules[2].center.fill_(2.0)
    data = [_data(k, (6,)) for k in range(3)]
    with pytest.raises(TrainingDiverged, match="model 2"):
        train_stacked(modules, [d[0] for d in data], [d[1] for d in data], SCHEDULE,
                      [torch.Generator().manual_seed(k) for k in range(3)])
