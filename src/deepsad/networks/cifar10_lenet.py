"""LeNet-type network for CIFAR-10 (Deep SAD paper, appendix): conv 32 → conv 64 → conv 128 (5×5) → fc 128."""

from torch import nn

from deepsad.networks.layers import (
    Upsample2x,
    batchnorm2d,
    check_image_shape,
    check_rep_dim_divisible,
    leaky_relu,
)
from deepsad.networks.registry import EncoderDecoder, register_network


def _conv_block(channels_in: int, channels_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(channels_in, channels_out, 5, padding=2, bias=False),
        batchnorm2d(channels_out), leaky_relu(), nn.MaxPool2d(2),
    ]


class Cifar10LeNetEncoder(nn.Module):
    def __init__(self, rep_dim: int = 128):
        super().__init__()
        self.features = nn.Sequential(*_conv_block(3, 32), *_conv_block(32, 64), *_conv_block(64, 128))
        self.code = nn.Linear(128 * 4 * 4, rep_dim, bias=False)

    def forward(self, x):
        return self.code(self.features(x).flatten(1))


def _deconv_block(channels_in: int, channels_out: int) -> list[nn.Module]:
    return [
        nn.ConvTranspose2d(channels_in, channels_out, 5, padding=2, bias=False),
        batchnorm2d(channels_out), leaky_relu(), Upsample2x(),
    ]


class Cifar10LeNetDecoder(nn.Module):
    def __init__(self, rep_dim: int = 128):
        super().__init__()
        self.code_channels = rep_dim // 16
        self.layers = nn.Sequential(
            leaky_relu(),
            *_deconv_block(self.code_channels, 128),   # 4 → 8
            *_deconv_block(128, 64),                   # 8 → 16
            *_deconv_block(64, 32),                    # 16 → 32
            nn.ConvTranspose2d(32, 3, 5, padding=2, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.layers(z.view(-1, self.code_channels, 4, 4))


@register_network("cifar10_lenet")
def build_cifar10_lenet(input_shape, rep_dim=None) -> EncoderDecoder:
    check_image_shape("cifar10_lenet", input_shape, (3, 32, 32))
    rep_dim = 128 if rep_dim is None else int(rep_dim)
    check_rep_dim_divisible("cifar10_lenet", rep_dim, 16)
    return EncoderDecoder(Cifar10LeNetEncoder(rep_dim), Cifar10LeNetDecoder(rep_dim), rep_dim)
