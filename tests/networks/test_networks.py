import pytest
import torch
from torch import nn

from deepsad.networks import auto_network_name, available_networks, build_network, collapse_risks

SHAPES = {"mlp": (9,), "mnist_lenet": (1, 28, 28), "fmnist_lenet": (1, 28, 28), "cifar10_lenet": (3, 32, 32)}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_encoder_and_decoder_shapes(name):
    net = build_network(name, SHAPES[name])
    x = torch.rand(4, *SHAPES[name])
    z = net.encoder(x)
    assert z.shape == (4, net.rep_dim)
    assert net.decoder(z).shape == x.shape


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_registered_encoders_have_no_collapse_risk(name):
    net = build_network(name, SHAPES[name])
    assert collapse_risks(net.encoder) == []
    assert all(m.bias is None for m in net.encoder.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))


def test_paper_architectures():
    mnist = build_network("mnist_lenet", (1, 28, 28)).encoder
    convs = [m for m in mnist.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(8, (5, 5)), (4, (5, 5))]
    assert build_network("mnist_lenet", (1, 28, 28)).rep_dim == 32
    fmnist = build_network("fmnist_lenet", (1, 28, 28)).encoder
    assert [m.out_features for m in fmnist.modules() if isinstance(m, nn.Linear)] == [64, 32]
    cifar = build_network("cifar10_lenet", (3, 32, 32))
    assert [c.out_channels for c in cifar.encoder.modules() if isinstance(c, nn.Conv2d)] == [32, 64, 128]
    assert cifar.rep_dim == 128
    bns = [m for m in cifar.encoder.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(b.affine for b in bns)


def test_mlp_sizes_follow_the_paper():
    arrhythmia = build_network("mlp", (274,))
    assert [m.out_features for m in arrhythmia.encoder.modules() if isinstance(m, nn.Linear)] == [128, 64, 32]
    assert build_network("mlp", (64,)).rep_dim == 32
    shuttle = build_network("mlp", (9,))
    assert [m.out_features for m in shuttle.encoder.modules() if isinstance(m, nn.Linear)] == [32, 16, 8]
    thyroid = build_network("mlp", (6,), rep_dim=4, hidden_sizes=(32, 16))
    assert thyroid.rep_dim == 4


def test_auto_network_by_shape():
    assert auto_network_name((1, 28, 28)) == "mnist_lenet"
    assert auto_network_name((3, 32, 32)) == "cifar10_lenet"
    assert auto_network_name((12,)) == "mlp"
    assert auto_network_name((1, 8, 8)) == "mlp"
    assert set(SHAPES) <= set(available_networks())


def test_bad_network_requests_name_the_problem():
    with pytest.raises(ValueError, match="network must be"):
        build_network("resnet", (9,))
    with pytest.raises(ValueError, match=r"takes samples of shape \(1, 28, 28\)"):
        build_network("mnist_lenet", (3, 32, 32))
    with pytest.raises(ValueError, match="multiple of 16"):
        build_network("mnist_lenet", (1, 28, 28), rep_dim=10)


def test_collapse_risks_found():
    risky = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.BatchNorm1d(4), nn.Linear(4, 2, bias=False))
    risks = collapse_risks(risky)
    assert any("bias" in r for r in risks)
    assert any("Tanh" in r for r in risks)
    assert any("affine" in r for r in risks)
