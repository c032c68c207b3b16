import numpy as np
import pytest
import torch
from torch import nn

from deepsad.networks.fully_convolutional import (
    FcddNet28,
    FcddNet32,
    GaussianUpsampler,
    ReceptiveField,
    fully_convolutional_network,
    receptive_field,
)


@pytest.mark.parametrize(
    "shape, map_size, field",
    [((1, 28, 28), 7, ReceptiveField(16, 4, 1.5)), ((3, 32, 32), 8, ReceptiveField(18, 4, 1.5))],
)
def test_the_networks_map_images_to_a_map_with_the_computed_field(shape, map_size, field):
    network = fully_convolutional_network(shape)
    assert isinstance(network, FcddNet28 if shape[0] == 1 else FcddNet32)
    assert network(torch.zeros(2, *shape)).shape == (2, 1, map_size, map_size)
    assert receptive_field(network, shape) == field
    assert not any(p.ndim == 1 for p in network.parameters())  # no bias terms
    with pytest.raises(ValueError, match="at least 8×8 pixels"):
        fully_convolutional_network((1, 4, 4))
    assert fully_convolutional_network((3, 40, 36))(torch.zeros(2, 3, 40, 36)).shape == (2, 1, 5, 4)


def test_the_field_is_where_an_output_cell_looks():
    # average pooling and positive weights: every pixel of the field reaches the cell
    network = nn.Sequential(nn.Conv2d(1, 2, 5, padding=2, bias=False), nn.AvgPool2d(2),
                            nn.Conv2d(2, 1, 3, padding=1, bias=False), nn.AvgPool2d(2))
    for parameter in network.parameters():
        parameter.data.uniform_(0.1, 1.0)
    field = receptive_field(network, (1, 32, 32))
    image = torch.rand(1, 1, 32, 32, requires_grad=True)
    output = network(image)
    row, column = 3, 4
    (gradient,) = torch.autograd.grad(output[0, 0, row, column], image)
    rows, columns = np.nonzero(gradient[0, 0].numpy())
    half = (field.size - 1) / 2
    centre = (field.start + row * field.stride, field.start + column * field.stride)
    assert rows.min() == centre[0] - half and rows.max() == centre[0] + half
    assert columns.min() == centre[1] - half and columns.max() == centre[1] + half


def test_upsampling_puts_each_cells_value_over_its_field():
    field = ReceptiveField(16, 4, 1.5)
    upsampler = GaussianUpsampler(field, (28, 28))
    maps = torch.zeros(1, 1, 7, 7)
    maps[0, 0, 2, 5] = 1.0
    heat = upsampler(maps)[0, 0]
    assert heat.shape == (28, 28)
    peak = np.unravel_index(int(heat.argmax()), heat.shape)
    assert peak in [(r, c) for r in (9, 10) for c in (21, 22)]  # the field's centre: 1.5 + 4·(2, 5) = (9.5, 21.5)
    assert heat[0, 0] < 1e-3 * heat.max()
    uniform = upsampler(torch.ones(1, 1, 7, 7))[0, 0]
    interior = uniform[8:20, 8:20]
    assert float(interior.max() - interior.min()) < 0.05 * float(interior.max())  # overlapping fields tile evenly
    with pytest.raises(ValueError, match="sigma must be a positive number"):
        GaussianUpsampler(field, (28, 28), sigma=0)


def test_layers_without_a_field_are_named():
    with pytest.raises(ValueError, match="the network has a Flatten"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 1)), (1, 4, 4))
    with pytest.raises(ValueError, match="the network has a Linear"):  # refused before it runs
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Linear(7, 1)), (1, 4, 4))
    with pytest.raises(ValueError, match=r"the same padding on every side; .* \(1, 2, 1, 1\)"):
        receptive_field(nn.Sequential(nn.ZeroPad2d((1, 2, 1, 1)), nn.Conv2d(1, 1, 3)), (1, 8, 8))
    with pytest.raises(ValueError, match="square, integer kernel_size"):
        receptive_field(nn.Conv2d(1, 1, (3, 5)), (1, 8, 8))
    assert receptive_field(_WithSpareLayer(), (1, 8, 8)) == ReceptiveField(3, 1, 1.0)


class _WithSpareLayer(nn.Module):
    """A registered layer that forward never calls is no part of the field."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)
        self.spare = nn.Linear(3, 3)

    def forward(self, x):
        return self.conv(x)
