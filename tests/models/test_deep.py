"""The fit pipeline shared by the deep estimators (``deepsad.models.deep``)."""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

import deepsad.models.deep_sad
from deepsad import FCDD, HSC, SSDGM, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier
from deepsad.training import TrainingDiverged
from tests.conftest import AUTOENCODER_FAST, FAST
from tests.estimators import blobs

X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)


def test_fit_reaches_the_loss_in_few_calls_without_climbing_a_class_hierarchy(monkeypatch):
    stacks = []
    loss = deepsad.models.deep_sad.deep_sad_loss

    def recording_loss(*args, **kwargs):
        stacks.append(inspect.stack())
        return loss(*args, **kwargs)

    monkeypatch.setattr(deepsad.models.deep_sad, "deep_sad_loss", recording_loss)
    DeepSAD(**{**FAST, "epochs": 1}).fit(X)
    package = str(Path(deepsad.__file__).parent)
    names = [frame.function for frame in reversed(stacks[0]) if frame.filename.startswith(package)]
    calls = names[names.index("fit"):]
    # fit → ... → the objective's batch_loss, which calls the loss: at most six calls (``_fit`` is
    # the pipeline, which FCDD.fit enters with its pixel masks).
    assert len(calls) + 1 <= 6, calls
    # Each step is a function, or a method defined on one class only: nothing goes up to a
    # base class to come back down to a subclass.
    assert calls == ["fit", "_fit", "_train_stage", "train", "batch_loss"], calls


def test_the_fitted_model_is_the_objective_and_its_parts_are_attributes():
    model = DeepSAD(**FAST).fit(X)
    assert isinstance(model.model_, torch.nn.Module)
    assert model.encoder_ is model.model_.encoder
    assert torch.equal(model.center_, model.model_.center)
    assert set(model.model_.state_dict()) == {f"encoder.{k}" for k in model.encoder_.state_dict()} | {"center"}
    svdd = DeepSVDD(objective="soft-boundary", **FAST).fit(X)
    assert svdd.radius_ == svdd.model_.radius


NETWORK = {"network", "rep_dim", "hidden_sizes", "decoder"}
TRAINING = {"epochs", "lr", "lr_milestones", "batch_size", "weight_decay"}
PRETRAINING = {"pretrain", "pretrain_on", "ae_epochs", "ae_lr", "ae_lr_milestones", "ae_batch_size", "ae_weight_decay"}
COMMON = {"scaler", "contamination", "device", "random_state", "verbose"}


@pytest.mark.parametrize(
    "cls, own",
    [
        (DeepSAD, {"eta", "eps", "auxiliary_fraction"} | NETWORK | TRAINING | PRETRAINING),
        (DeepSVDD, {"objective", "nu"} | NETWORK | TRAINING | PRETRAINING),
        (HSC, {"h", "eta", "eps", "auxiliary_fraction"} | NETWORK | TRAINING | PRETRAINING),
        (SupervisedClassifier, {"anomaly_weight"} | NETWORK | TRAINING | PRETRAINING),
        # One stage, the pretraining one: no main stage, nothing to switch off.
        (Autoencoder, NETWORK | PRETRAINING - {"pretrain", "pretrain_on"}),
        # Its own three MLPs and no pretraining.
        (SSDGM, {"alpha", "rep_dim", "hidden_sizes"} | TRAINING),
        # A fully convolutional network of its own, no pretraining; negatives of its own making.
        (FCDD, {"eta", "eps", "auxiliary_fraction", "synthetic_anomalies", "synthetic_fraction", "sigma", "network"}
         | TRAINING),
    ],
)
def test_every_deep_estimator_takes_exactly_the_parameters_it_uses(cls, own):
    assert set(cls().get_params()) == own | COMMON


@pytest.mark.parametrize("cls", [DeepSAD, DeepSVDD, HSC])
def test_too_few_samples_for_batchnorm(cls):
    with pytest.raises(ValueError, match="at least 2"):
        cls(**FAST).fit(X[:1])


def test_network_with_wrong_output_shape():
    class Flat(torch.nn.Module):
        def forward(self, x):
            return x.sum()

    with pytest.raises(ValueError, match=r"network must map"):
        DeepSAD(network=Flat(), pretrain=False, **FAST).fit(X)
    with pytest.raises(ValueError, match=r"network failed"):
        DeepSAD(network=torch.nn.Linear(7, 2, bias=False), pretrain=False, epochs=1).fit(X)


def test_network_choices_are_checked():
    with pytest.raises(ValueError, match="hidden_sizes applies to network='mlp' only"):
        DeepSAD(network="mnist_lenet", hidden_sizes=(3,)).fit(np.zeros((4, 1, 28, 28)))
    with pytest.raises(ValueError, match="device"):
        DeepSAD(device="tpu", **FAST).fit(X)


def test_diverging_training_is_reported():
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        DeepSAD(network=torch.nn.Linear(4, 3, bias=False), pretrain=False, lr=1e30, epochs=3,
                weight_decay=1e30, random_state=0).fit(X * 1e30)


@pytest.mark.parametrize("cls", [DeepSAD, DeepSVDD, HSC, SupervisedClassifier])
def test_pretrained_encoder_weights_arrive(cls):
    X_blobs, y, _ = blobs()
    labels = np.where(y == -1, -1, 0) if cls is not DeepSVDD else None
    # With no epochs after pretraining, the encoder is exactly the autoencoder's encoder (same
    # seed: same initial weights and batch order over the same inputs).
    model = cls(**{**FAST, "epochs": 0}).fit(X_blobs if labels is not None else X_blobs[y != -1], labels)
    autoencoder = Autoencoder(**AUTOENCODER_FAST).fit(X_blobs if labels is not None else X_blobs[y != -1])
    reference = autoencoder.encoder_.state_dict()
    for name, trained in model.encoder_.state_dict().items():
        assert torch.equal(trained, reference[name]), name
    assert len(model.history_["pretrain"]["loss"]) == FAST["ae_epochs"]
    fresh = cls(**{**FAST, "epochs": 0, "pretrain": False}).fit(X_blobs, labels)
    assert "pretrain" not in fresh.history_
    assert not torch.equal(fresh.encoder_.code.weight, model.encoder_.code.weight)


def test_warnings_point_at_the_line_that_called_fit():
    class Constant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(3))

        def forward(self, x):
            return self.weight.expand(x.shape[0], 3) + 0 * x[:, :1]

    biased = torch.nn.Sequential(torch.nn.Linear(4, 3))
    images = np.full((8, 1, 4, 4), 3.0, dtype=np.float32)
    with pytest.warns(UserWarning) as caught:
        DeepSAD(network=Constant(), pretrain=False, epochs=1, random_state=0).fit(X)  # collapsed
        DeepSAD(network=biased, pretrain=False, epochs=1, random_state=0).fit(X)  # collapse-prone
        HSC(**FAST).fit(X)  # no labeled anomalies
        Autoencoder(**AUTOENCODER_FAST).fit(images)  # images outside [0, 1]
    messages = {"collapsed", "collapse)", "no labeled anomalies", "expected in [0, 1]"}
    found = {m for m in messages for w in caught if m in str(w.message)}
    assert found == messages
    assert {w.filename for w in caught} == {__file__}, [(w.filename, str(w.message)[:40]) for w in caught]


def test_an_objective_that_keeps_a_tensor_the_model_file_would_lose_is_refused():
    from deepsad.models.deep_sad import DeepSADObjective

    class Forgetful(DeepSADObjective):
        def finish(self, inputs, labels):
            self.scale = torch.ones(1)  # state that is neither buffer nor parameter
            return super().finish(inputs, labels)

    class ForgetfulSAD(DeepSAD):
        def _training_plan(self):
            plan = super()._training_plan()
            return type(plan)(Forgetful(self.eta, self.eps), plan.schedule, plan.pretraining)

    with pytest.raises(TypeError, match=r"keeps the tensor\(s\) \['scale'\] as plain attributes"):
        ForgetfulSAD(**FAST).fit(X)


def test_small_fully_connected_networks_train_on_one_cpu_thread_and_the_callers_setting_is_kept():
    from deepsad.models.device import cpu_threads_for, torch_threads
    from deepsad.networks import build_network

    cpu = torch.device("cpu")
    assert cpu_threads_for(build_network("mlp", (9,)).encoder, cpu) == 1
    assert cpu_threads_for(build_network("mnist_lenet", (1, 28, 28)).encoder, cpu) is None
    assert cpu_threads_for(torch.nn.Linear(2000, 1000), cpu) is None  # 2M parameters: big enough to split
    assert cpu_threads_for(build_network("mlp", (9,)).encoder, torch.device("cuda")) is None
    before = torch.get_num_threads()
    seen = []
    with torch_threads(before + 1):
        seen.append(torch.get_num_threads())
    assert seen == [before + 1] and torch.get_num_threads() == before
    torch.set_num_threads(2)
    try:
        observed = []
        model = DeepSAD(**FAST)
        original = model._train_stage
        model._train_stage = lambda run, stage: (observed.append(torch.get_num_threads()), original(run, stage))
        model.fit(X)
        assert observed == [1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
