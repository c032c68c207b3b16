"""The fit pipeline shared by the deep estimators (``deepsad.models.deep``)."""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

import deepsad.models.deep_sad
from deepsad import HSC, Autoencoder, DeepSAD, DeepSVDD, SupervisedClassifier
from deepsad.models.deep import DeepDetector
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
    # fit → ... → the objective's batch_loss, which calls the loss: at most six calls.
    assert len(calls) + 1 <= 6, calls
    # Each step is a function, or a method defined on one class only: nothing goes up to a
    # base class to come back down to a subclass.
    assert calls == ["fit", "_train_stage", "train", "batch_loss"], calls


def test_the_fitted_model_is_the_objective_and_its_parts_are_attributes():
    model = DeepSAD(**FAST).fit(X)
    assert isinstance(model.model_, torch.nn.Module)
    assert model.encoder_ is model.model_.encoder
    assert torch.equal(model.center_, model.model_.center)
    assert set(model.model_.state_dict()) == {f"encoder.{k}" for k in model.encoder_.state_dict()} | {"center"}
    svdd = DeepSVDD(objective="soft-boundary", **FAST).fit(X)
    assert svdd.radius_ == svdd.model_.radius


def test_every_deep_estimator_declares_only_parameters_it_uses():
    for cls in DeepDetector.__subclasses__():
        params = set(cls().get_params())
        if "pretrain" not in params:
            assert not {p for p in params if p.startswith("ae_")} or cls is Autoencoder, cls
    assert "pretrain" not in Autoencoder().get_params() and "epochs" not in Autoencoder().get_params()


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
