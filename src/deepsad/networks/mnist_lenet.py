"""LeNet-type network for MNIST (Deep SAD paper, appendix): conv 8×5×5 → conv 4×5×5 → fc 32."""

from torch import nn

from deepsad.networks.layers import (
    Upsample2x,
    batchnorm2d,
    check_image_shape,
    check_rep_dim_divisible,
    leaky_relu,
)
from deepsad.networks.registry import EncoderDecoder, register_network


class MnistLeNetEncoder(nn.Module):
    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5, padding=2, bias=False), batchnorm2d(8), leaky_relu(), nn.MaxPool2d(2),
            nn.Conv2d(8, 4, 5, padding=2, bias=False), batchnorm2d(4), leaky_relu(), nn.MaxPool2d(2),
        )
        self.code = nn.Linear(4 * 7 * 7, rep_dim, bias=False)

    def forward(self, x):
        return self.code(self.features(x).flatten(1))


class MnistLeNetDecoder(nn.Module):
    def __init__(self, rep_dim: int = 32):
        super().__init__()
        self.code_channels = rep_dim // 16
        self.layers = nn.Sequential(
            leaky_relu(), Upsample2x(),                                              # 4 → 8
            nn.ConvTranspose2d(self.code_channels, 4, 5, padding=2, bias=False),
            batchnorm2d(4), leaky_relu(), Upsample2x(),                              # 8 → 16
            nn.ConvTranspose2d(4, 8, 5, padding=3, bias=False),                      # 16 → 14
            batchnorm2d(8), leaky_relu(), Upsample2x(),                              # 14 → 28
            nn.ConvTranspose2d(8, 1, 5, padding=2, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.layers(z.view(-1, self.code_channels, 4, 4))


@register_network("mnist_lenet")
def build_mnist_lenet(input_shape, rep_dim=None) -> EncoderDecoder:
    check_image_shape("mnist_lenet", input_shape, (1, 28, 28))
    rep_dim = 32 if rep_dim is None else int(rep_dim)
    check_rep_dim_divisible("mnist_lenet", rep_dim, 16)
    return EncoderDecoder(MnistLeNetEncoder(rep_dim), MnistLeNetDecoder(rep_dim), rep_dim)
